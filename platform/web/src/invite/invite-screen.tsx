import { useEffect, useState } from "react";
import { ApiError, toErrorDetail } from "../api/api-error";
import type { InvitationPreview } from "../api/platform-schemas";
import { AuthCard } from "../auth/auth-card";
import { useAuthState } from "../auth/auth-store";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { Link } from "../ui/link";
import { InviteSignedIn } from "./invite-signed-in";
import { InviteSignedOut } from "./invite-signed-out";

type PreviewState =
  | { status: "loading" }
  | { status: "ready"; invitation: InvitationPreview }
  | { status: "gone" }
  | { status: "error"; error: { code: string; message: string } };

/**
 * `/invite/{token}`, the link in an invitation mail. It says who invited whom to which
 * organisation before anyone signs in; then a visitor signs up from it (and lands in that
 * organisation) or signs in, and the invited account joins. The page stays mounted across
 * signing in and out, so it is one card whatever the session.
 */
export function InviteScreen({ token }: { token: string }) {
  const { api, auth } = useServices();
  const session = useAuthState(auth);
  const [preview, setPreview] = useState<PreviewState>({ status: "loading" });
  // Signing up from the link signs in before it has finished joining: the form stays until it leaves the page.
  const [signingUp, setSigningUp] = useState(false);

  // Asked once per link: after joining, the same question would answer "already used".
  useEffect(() => {
    let current = true;
    api.previewInvitation(token).then(
      (invitation) => current && setPreview({ status: "ready", invitation }),
      (thrown: unknown) => {
        if (!current) return;
        if (thrown instanceof ApiError && thrown.status === 404) setPreview({ status: "gone" });
        else setPreview({ status: "error", error: toErrorDetail(thrown) });
      },
    );
    return () => {
      current = false;
    };
  }, [api, token]);

  if (preview.status === "loading" || session.status === "loading") {
    return (
      <AuthCard title="Invitation">
        <p className="muted" role="status">
          Loading the invitation…
        </p>
      </AuthCard>
    );
  }
  if (preview.status === "gone") {
    return (
      <AuthCard title="This invitation has expired or was already used">
        <p>An invitation link works once, for seven days, and stops working when it is withdrawn. Ask the person who invited you to send a new one.</p>
        <p className="auth-footer">
          <Link to="/">{session.status === "signed-in" ? "Open Workforce" : "Sign in"}</Link>
        </p>
      </AuthCard>
    );
  }
  if (preview.status === "error") {
    return (
      <AuthCard title="Invitation">
        <ErrorMessage error={preview.error} />
        <p className="auth-footer">
          <Link to="/">Open Workforce</Link>
        </p>
      </AuthCard>
    );
  }
  const { invitation } = preview;
  return (
    <AuthCard title={`Join ${invitation.organisation}`}>
      <p className="invitation-summary" data-testid="invitation-summary">
        {invitation.inviterEmail ?? "Someone"} invited you to join <strong>{invitation.organisation}</strong> as {invitation.role === "admin" || invitation.role === "owner" ? "an" : "a"}{" "}
        <strong>{invitation.role}</strong>.
      </p>
      {session.status === "signed-in" && !signingUp ? (
        <InviteSignedIn token={token} invitation={invitation} session={session.session} />
      ) : (
        <InviteSignedOut token={token} invitation={invitation} onSigningUp={setSigningUp} />
      )}
    </AuthCard>
  );
}
