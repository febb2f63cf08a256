import { useId, useState, type FormEvent } from "react";
import type { SignupMode } from "../config";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { describeAuthError, type AuthErrorDetail } from "./auth-errors";
import { ResendButton } from "./resend-button";

type Action = "sign-in" | "sign-up";

/**
 * Whether the sign-in screen offers "Sign up": only where it can work (the server decides
 * `domains` per address), and always for an installation's first account, its operator-to-be.
 */
export function signUpOffered(mode: SignupMode | undefined, firstAccount = false): boolean {
  return firstAccount || mode === undefined || mode === "open" || mode === "domains";
}

function PolicyNote({ mode, firstAccount }: { mode: SignupMode | undefined; firstAccount: boolean }) {
  if (firstAccount) {
    return <p className="muted small policy-note">This installation has no account yet: the first to sign up becomes its operator.</p>;
  }
  switch (mode) {
    case "invite":
      return <p className="muted small policy-note">New accounts need an invitation: open the link in the invitation email you received.</p>;
    case "closed":
      return <p className="muted small policy-note">This installation does not take new accounts. Ask its operator for one.</p>;
    case "domains":
      return <p className="muted small policy-note">Sign-up is open to some email domains only; anyone else needs an invitation.</p>;
    default:
      return null;
  }
}

/**
 * Sign in or sign up with email and password through supabase-js. One form, two buttons: Enter
 * signs in. The form does not use browser validation so the server's own message is always shown.
 */
export function SignInForm(props: { email: string; onEmailChange: (email: string) => void; onForgot: () => void; onCheckEmail: (email: string) => void }) {
  const { auth, config } = useServices();
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState<Action>();
  const [error, setError] = useState<AuthErrorDetail>();
  const id = useId();
  const email = props.email.trim();
  const canSignUp = signUpOffered(config.signup, config.firstAccount);

  async function run(action: Action) {
    setBusy(action);
    setError(undefined);
    try {
      if (action === "sign-up") {
        const { data, error: signUpError } = await auth.client.auth.signUp({ email, password });
        if (signUpError) setError(describeAuthError(signUpError));
        // Confirmation required: GoTrue answers the user without a session, and a link is on its way.
        else if (!data.session) props.onCheckEmail(email);
      } else {
        const { error: signInError } = await auth.client.auth.signInWithPassword({ email, password });
        if (signInError) setError(describeAuthError(signInError));
      }
    } catch (thrown) {
      setError(describeAuthError(thrown));
    } finally {
      setBusy(undefined);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void run("sign-in");
  }

  return (
    <>
      <p className="muted">{canSignUp ? "Sign in to your AI workforce, or create an account." : "Sign in to your AI workforce."}</p>
      <form className="form" onSubmit={submit} noValidate aria-label="Account">
        <div className="field">
          <label htmlFor={`${id}-email`}>Email</label>
          <input
            id={`${id}-email`}
            name="email"
            type="email"
            inputMode="email"
            autoComplete="email"
            value={props.email}
            onChange={(event) => props.onEmailChange(event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-password`}>Password</label>
          <input
            id={`${id}-password`}
            name="password"
            type="password"
            autoComplete="current-password"
            value={password}
            onChange={(event) => setPassword(event.target.value)}
          />
        </div>
        <ErrorMessage error={error}>
          {error?.code === "email_not_confirmed" && email ? <ResendButton email={email} type="signup" onSent={() => props.onCheckEmail(email)} /> : null}
        </ErrorMessage>
        <div className="button-row">
          <button type="submit" className="button primary" disabled={busy !== undefined} aria-busy={busy === "sign-in"}>
            Sign in
          </button>
          {canSignUp ? (
            <button type="button" className="button" disabled={busy !== undefined} aria-busy={busy === "sign-up"} onClick={() => void run("sign-up")}>
              Sign up
            </button>
          ) : null}
        </div>
        <PolicyNote mode={config.signup} firstAccount={config.firstAccount} />
        <p className="auth-footer">
          <button type="button" className="link-button" onClick={props.onForgot}>
            Forgot password?
          </button>
        </p>
      </form>
    </>
  );
}
