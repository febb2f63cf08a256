import { useState } from "react";
import { NewPasswordForm } from "../auth/new-password-form";

/** A new password for this account; the other devices signed in with the old one are signed out. */
export function PasswordSection() {
  const [saved, setSaved] = useState(false);
  return (
    <section className="card section" aria-labelledby="password-title">
      <h2 id="password-title">Password</h2>
      {saved ? (
        <p className="notice" role="status">
          Your new password is saved. Other devices signed in to this account were signed out.
        </p>
      ) : null}
      <NewPasswordForm submitLabel="Change password" onSaved={() => setSaved(true)} />
    </section>
  );
}
