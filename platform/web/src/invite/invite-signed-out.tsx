import { useId, useState, type FormEvent } from "react";
import type { InvitationPreview } from "../api/platform-schemas";
import { describeAuthError, type AuthErrorDetail } from "../auth/auth-errors";
import { CheckEmail } from "../auth/check-email";
import { ResendButton } from "../auth/resend-button";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { enterOrganisation } from "./enter-organisation";

type Mode = "sign-up" | "sign-in";

/**
 * A visitor with the link: sign up with the invited address (fixed: the link was mailed there,
 * which is also why the account counts as confirmed), joining the organisation and no other; or
 * sign in with an existing account, after which the page offers to join.
 */
export function InviteSignedOut(props: { token: string; invitation: InvitationPreview; onSigningUp: (busy: boolean) => void }) {
  const { token, invitation, onSigningUp } = props;
  const services = useServices();
  const { auth, api, config } = services;
  // Under a closed sign-up policy even invited addresses cannot create an account.
  const canSignUp = config.signup !== "closed";
  const [mode, setMode] = useState<Mode>(canSignUp ? "sign-up" : "sign-in");
  const [email, setEmail] = useState(invitation.email);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AuthErrorDetail>();
  const [checkEmail, setCheckEmail] = useState(false);
  const id = useId();

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (mode === "sign-in") {
        // Signed in, the page shows the invitation to the account (join, or "this is for another address").
        const { error: signInError } = await auth.client.auth.signInWithPassword({ email: email.trim(), password });
        if (signInError) setError(describeAuthError(signInError));
        return;
      }
      onSigningUp(true);
      const { data, error: signUpError } = await auth.client.auth.signUp({
        email: invitation.email,
        password,
        options: { data: { invitation_token: token } },
      });
      if (signUpError) {
        setError(describeAuthError(signUpError));
        onSigningUp(false);
        return;
      }
      if (!data.session) {
        setCheckEmail(true);
        return;
      }
      // The account's only organisation is the one it was invited to.
      const tenants = await api.listTenants();
      const joined = tenants.find((tenant) => tenant.name === invitation.organisation) ?? tenants[0];
      if (joined) enterOrganisation(services, joined, invitation.role);
      else onSigningUp(false);
    } catch (thrown) {
      setError(describeAuthError(thrown));
      onSigningUp(false);
    } finally {
      setBusy(false);
    }
  }

  if (checkEmail) return <CheckEmail email={invitation.email} />;

  return (
    <form className="form" onSubmit={(event) => void submit(event)} noValidate aria-label={mode === "sign-up" ? "Create your account" : "Sign in"}>
      <p className="muted">
        {mode === "sign-up" ? "Create your account to join. Choose a password:" : "Sign in with your account. To join, it must be the invited address."}
      </p>
      <div className="field">
        <label htmlFor={`${id}-email`}>Email</label>
        {mode === "sign-up" ? (
          <input id={`${id}-email`} name="email" type="email" value={invitation.email} readOnly aria-describedby={`${id}-email-hint`} />
        ) : (
          <input id={`${id}-email`} name="email" type="email" inputMode="email" autoComplete="email" value={email} onChange={(event) => setEmail(event.target.value)} />
        )}
        {mode === "sign-up" ? (
          <p id={`${id}-email-hint`} className="hint">
            The invitation is for this address.
          </p>
        ) : null}
      </div>
      <div className="field">
        <label htmlFor={`${id}-password`}>Password</label>
        <input
          id={`${id}-password`}
          name="password"
          type="password"
          autoComplete={mode === "sign-up" ? "new-password" : "current-password"}
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
      </div>
      <ErrorMessage error={error}>
        {error?.code === "email_not_confirmed" && email.trim() ? <ResendButton email={email.trim()} type="signup" /> : null}
      </ErrorMessage>
      <div className="button-row">
        <button type="submit" className="button primary" disabled={busy || password === ""} aria-busy={busy}>
          {mode === "sign-up" ? `Sign up and join ${invitation.organisation}` : "Sign in"}
        </button>
      </div>
      {canSignUp ? (
        <p className="auth-footer">
          <button
            type="button"
            className="link-button"
            onClick={() => {
              setError(undefined);
              setMode(mode === "sign-up" ? "sign-in" : "sign-up");
            }}
          >
            {mode === "sign-up" ? "Already have an account? Sign in" : "New here? Sign up instead"}
          </button>
        </p>
      ) : null}
    </form>
  );
}
