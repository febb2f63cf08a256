import type { User } from "@supabase/supabase-js";
import { useId, useState, type FormEvent } from "react";
import { describeAuthError, type AuthErrorDetail } from "../auth/auth-errors";
import { CodeForm } from "../auth/code-form";
import { ResendButton } from "../auth/resend-button";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";

/** The address, whether it is confirmed, and changing it (confirmed at the new address before it counts). */
export function EmailSection({ user, onUser }: { user: User; onUser: (user: User) => void }) {
  const { auth } = useServices();
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AuthErrorDetail>();
  const id = useId();
  const confirmed = user.email_confirmed_at != null;
  const pending = user.new_email;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const { data, error: updateError } = await auth.client.auth.updateUser({ email: email.trim() });
      if (updateError) {
        setError(describeAuthError(updateError));
        return;
      }
      onUser(data.user);
      setEmail("");
    } catch (thrown) {
      setError(describeAuthError(thrown));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card section" aria-labelledby="email-title">
      <h2 id="email-title">Email address</h2>
      <p className="account-email">
        <strong data-testid="account-email">{user.email}</strong>{" "}
        {confirmed ? <span className="badge badge-ok">Confirmed</span> : <span className="badge badge-warning">Not confirmed</span>}
      </p>
      {!confirmed && user.email ? (
        <div className="resend-row">
          <span className="muted small">Open the link we emailed you to confirm it.</span>
          <ResendButton email={user.email} type="signup" />
        </div>
      ) : null}

      {pending ? (
        <div className="pending-email" data-testid="pending-email">
          <p className="notice" role="status">
            Confirm the new address: we sent a link to <strong>{pending}</strong>. Until you open it, you still sign in with {user.email}.
          </p>
          <p className="muted small">Or type the 6-digit code from that email:</p>
          <CodeForm email={pending} type="email_change" />
          <ResendButton email={pending} type="email_change" />
        </div>
      ) : null}

      <h3 className="subheading">Change your address</h3>
      <form className="inline-form" onSubmit={(event) => void submit(event)} noValidate aria-label="Change your address">
        <div className="field grow">
          <label htmlFor={id}>New email address</label>
          <input id={id} type="email" inputMode="email" autoComplete="email" value={email} onChange={(event) => setEmail(event.target.value)} />
        </div>
        <button type="submit" className="button" disabled={busy || email.trim() === ""} aria-busy={busy}>
          Change email
        </button>
        <ErrorMessage error={error} />
      </form>
    </section>
  );
}
