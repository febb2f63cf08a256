import type { User } from "@supabase/supabase-js";
import { useEffect, useState } from "react";
import { describeAuthError, type AuthErrorDetail } from "../auth/auth-errors";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { EmailSection } from "./email-section";
import { PasswordSection } from "./password-section";
import { SignOutEverywhere } from "./sign-out-everywhere";

/**
 * `/account`: the signed-in user's own account, whatever organisation is selected: the address
 * and whether it is confirmed, a new password, a new address, and signing out everywhere.
 */
export function AccountScreen() {
  const { auth } = useServices();
  const [user, setUser] = useState<User>();
  const [error, setError] = useState<AuthErrorDetail>();

  // The session's copy of the user can be old (an email change is pending, or was confirmed elsewhere).
  useEffect(() => {
    let current = true;
    auth.client.auth.getUser().then(
      ({ data, error: userError }) => {
        if (!current) return;
        if (userError) setError(describeAuthError(userError));
        else setUser(data.user);
      },
      (thrown: unknown) => current && setError(describeAuthError(thrown)),
    );
    return () => {
      current = false;
    };
  }, [auth]);

  return (
    <main className="page narrow" id="main" tabIndex={-1}>
      <div className="page-header">
        <div>
          <h1>Account</h1>
          <p className="muted">Your sign-in, for every organisation you belong to.</p>
        </div>
      </div>
      <ErrorMessage error={error} />
      {user ? (
        <>
          <EmailSection user={user} onUser={setUser} />
          <PasswordSection />
          <SignOutEverywhere />
        </>
      ) : !error ? (
        <p className="muted" role="status">
          Loading your account…
        </p>
      ) : null}
    </main>
  );
}
