import { useState } from "react";
import { describeAuthError, type AuthErrorDetail } from "../auth/auth-errors";
import { useServices } from "../services";
import { ConfirmGroup } from "../ui/confirm-group";
import { ErrorMessage } from "../ui/error-message";

/** Ends every sign-in of this account, this browser's included (a lost laptop, a shared computer). */
export function SignOutEverywhere() {
  const { auth } = useServices();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AuthErrorDetail>();

  async function signOut() {
    setBusy(true);
    setError(undefined);
    const { error: signOutError } = await auth.client.auth.signOut({ scope: "global" });
    if (signOutError) {
      setError(describeAuthError(signOutError));
      setBusy(false);
    }
  }

  return (
    <section className="card section" aria-labelledby="sessions-title">
      <h2 id="sessions-title">Signed-in devices</h2>
      <p className="muted">Signing out everywhere ends every sign-in of this account, on every device and in this browser too.</p>
      <div className="button-row">
        <button type="button" className="button danger-text" aria-expanded={confirming} onClick={() => setConfirming(true)}>
          Sign out everywhere
        </button>
      </div>
      {confirming ? (
        <ConfirmGroup label="Sign out everywhere?" confirmLabel="Confirm sign out everywhere" busy={busy} onConfirm={() => void signOut()} onCancel={() => setConfirming(false)}>
          Sign out of every device, this one included?
        </ConfirmGroup>
      ) : null}
      <ErrorMessage error={error} />
    </section>
  );
}
