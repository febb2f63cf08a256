import { ResendButton } from "../auth/resend-button";
import type { WorkspaceUser } from "../tenants/tenant-store";

/** Shown while the signed-in address is unconfirmed: invitations and some installations need it confirmed. */
export function UnconfirmedBanner({ user }: { user: WorkspaceUser }) {
  if (user.emailConfirmed || !user.email) return null;
  return (
    <div className="banner banner-warning" data-testid="unconfirmed-banner">
      <span>
        <strong>Confirm your email address.</strong> We sent a link to {user.email}; open it to confirm that the address is yours.
      </span>
      <ResendButton email={user.email} type="signup" />
    </div>
  );
}
