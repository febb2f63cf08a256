import { useId, useState, type FormEvent } from "react";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { describeAuthError, type AuthErrorDetail } from "./auth-errors";
import { CodeForm } from "./code-form";

/**
 * "Forgot password?": mails a reset link and code. The answer reads the same whether or not the
 * account exists, as the server's does, so the page cannot be used to find out who has one.
 */
export function ForgotPassword({ email, onEmailChange }: { email: string; onEmailChange: (email: string) => void }) {
  const { auth } = useServices();
  const [sentTo, setSentTo] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AuthErrorDetail>();
  const id = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const address = email.trim();
    setBusy(true);
    setError(undefined);
    try {
      const { error: resetError } = await auth.client.auth.resetPasswordForEmail(address);
      if (resetError) setError(describeAuthError(resetError));
      else setSentTo(address);
    } catch (thrown) {
      setError(describeAuthError(thrown));
    } finally {
      setBusy(false);
    }
  }

  if (sentTo) {
    return (
      <div className="form">
        <p className="notice" role="status">
          If an account exists for <strong>{sentTo}</strong>, we sent it a link to choose a new password. The link works for an hour.
        </p>
        <p className="muted small">Or type the 6-digit code from the same email:</p>
        <CodeForm email={sentTo} type="recovery" submitLabel="Continue" />
        <p className="small">
          <button type="button" className="link-button" onClick={() => setSentTo(undefined)}>
            Use another address
          </button>
        </p>
      </div>
    );
  }

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label="Reset your password">
      <p className="muted">Enter the email address of your account; we will send you a link to choose a new password.</p>
      <div className="field">
        <label htmlFor={id}>Email</label>
        <input id={id} name="email" type="email" inputMode="email" autoComplete="email" value={email} onChange={(event) => onEmailChange(event.target.value)} />
      </div>
      <ErrorMessage error={error} />
      <div className="button-row">
        <button type="submit" className="button primary" disabled={busy || email.trim() === ""} aria-busy={busy}>
          Send reset link
        </button>
      </div>
    </form>
  );
}
