import { useId, useState, type FormEvent } from "react";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { afterVerified, type VerifyType } from "./after-verify";
import { describeAuthError, type AuthErrorDetail } from "./auth-errors";

/**
 * The 6-digit code printed in a mail under its link, typed by hand (another device, a mail app
 * that mangles links): `verifyOtp({ email, token, type })`, then the same way on as the link.
 */
export function CodeForm({ email, type, submitLabel = "Confirm" }: { email: string; type: VerifyType; submitLabel?: string }) {
  const services = useServices();
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AuthErrorDetail>();
  const id = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { data, error: verifyError } = await services.auth.client.auth.verifyOtp({ email, token: code.replace(/\s+/g, ""), type });
      if (verifyError) {
        const detail = describeAuthError(verifyError);
        setError(detail.code === "otp_expired" ? { code: detail.code, message: detail.message, sentence: "That code is wrong or has expired. Check the newest email, or ask for a new one." } : detail);
        return;
      }
      afterVerified(services, type, data.session);
    } catch (thrown) {
      setError(describeAuthError(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="inline-form code-form" onSubmit={(event) => void submit(event)} noValidate aria-label="Confirm by code">
      <div className="field grow">
        <label htmlFor={id}>Code from the email</label>
        <input
          id={id}
          name="code"
          inputMode="numeric"
          autoComplete="one-time-code"
          maxLength={8}
          placeholder="123456"
          value={code}
          onChange={(event) => setCode(event.target.value)}
        />
      </div>
      <button type="submit" className="button" disabled={busy || code.trim() === ""} aria-busy={busy}>
        {submitLabel}
      </button>
      <ErrorMessage error={error} />
    </form>
  );
}
