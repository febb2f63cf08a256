import type { Session } from "@supabase/supabase-js";
import { useEffect, useState } from "react";
import { ApiError, toErrorDetail } from "../api/api-error";
import type { InvitationPreview } from "../api/platform-schemas";
import { ResendButton } from "../auth/resend-button";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { Link } from "../ui/link";
import { enterOrganisation } from "./enter-organisation";

type ErrorDetail = { code: string; message: string };

/**
 * The link opened by someone signed in. The invited address joins with one click, once it is
 * confirmed; another account is told whose invitation it is and may sign out to switch.
 */
export function InviteSignedIn({ token, invitation, session }: { token: string; invitation: InvitationPreview; session: Session }) {
  const services = useServices();
  const { api, auth } = services;
  const email = session.user.email ?? "";
  const forThisAccount = email.toLowerCase() === invitation.email.toLowerCase();
  // The session's user may be older than a confirmation made meanwhile: `/api/me` knows.
  const [confirmed, setConfirmed] = useState<boolean>(session.user.email_confirmed_at != null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ErrorDetail>();

  useEffect(() => {
    let current = true;
    api.me().then(
      (me) => current && setConfirmed(me.user.emailConfirmed),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [api, session.user.id]);

  async function join() {
    setBusy(true);
    setError(undefined);
    try {
      const tenant = await api.acceptInvitation(token);
      enterOrganisation(services, tenant, tenant.role);
    } catch (thrown) {
      if (thrown instanceof ApiError && thrown.code === "email_not_confirmed") setConfirmed(false);
      setError(toErrorDetail(thrown));
      setBusy(false);
    }
  }

  if (!forThisAccount) {
    return (
      <div className="form">
        <p className="notice" role="note">
          This invitation is for <strong>{invitation.email}</strong>, but you are signed in as <strong>{email}</strong>. Sign out, then sign in or sign up
          with the invited address; this link stays open.
        </p>
        <div className="button-row">
          <button type="button" className="button primary" onClick={() => void auth.client.auth.signOut({ scope: "local" })}>
            Sign out
          </button>
          <Link to="/" className="button">
            Open Workforce
          </Link>
        </div>
      </div>
    );
  }

  return (
    <div className="form">
      <p className="muted">You are signed in as {email}.</p>
      {!confirmed ? (
        <div className="notice" role="note" data-testid="confirm-first">
          <p>
            <strong>Confirm your email first.</strong> Open the link we emailed to {email}, then come back to this page to join.
          </p>
          <ResendButton email={email} type="signup" />
        </div>
      ) : null}
      <ErrorMessage error={error?.code === "email_not_confirmed" ? undefined : error} />
      <div className="button-row">
        <button type="button" className="button primary" disabled={busy} aria-busy={busy} onClick={() => void join()}>
          Join {invitation.organisation}
        </button>
        <Link to="/" className="button">
          Not now
        </Link>
      </div>
    </div>
  );
}
