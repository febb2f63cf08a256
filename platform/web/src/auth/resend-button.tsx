import { useState } from "react";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { describeAuthError, type AuthErrorDetail } from "./auth-errors";

/**
 * "Send it again": mails the confirmation of a new account (`signup`) or of a pending new
 * address (`email_change`) once more. The server allows one a minute; its refusal says when.
 */
export function ResendButton(props: { email: string; type: "signup" | "email_change"; label?: string; disabled?: boolean; onSent?: () => void }) {
  const { auth } = useServices();
  const [state, setState] = useState<{ status: "idle" | "sending" | "sent" } | { status: "error"; error: AuthErrorDetail }>({ status: "idle" });

  async function resend() {
    setState({ status: "sending" });
    try {
      const { error } = await auth.client.auth.resend({ type: props.type, email: props.email });
      if (error) {
        setState({ status: "error", error: describeAuthError(error) });
        return;
      }
      setState({ status: "sent" });
      props.onSent?.();
    } catch (thrown) {
      setState({ status: "error", error: describeAuthError(thrown) });
    }
  }

  return (
    <div className="resend">
      <button type="button" className="button small" disabled={props.disabled === true || state.status === "sending"} aria-busy={state.status === "sending"} onClick={() => void resend()}>
        {props.label ?? "Send it again"}
      </button>
      <span role="status" className="small">
        {state.status === "sent" ? `We sent a new link to ${props.email}.` : ""}
      </span>
      {state.status === "error" ? <ErrorMessage error={state.error} /> : null}
    </div>
  );
}
