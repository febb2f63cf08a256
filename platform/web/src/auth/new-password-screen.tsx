import { useState } from "react";
import { navigate } from "../router";
import { useServices } from "../services";
import { Link } from "../ui/link";
import { AuthCard } from "./auth-card";
import { useAuthState } from "./auth-store";
import { ForgotPassword } from "./forgot-password";
import { NewPasswordForm } from "./new-password-form";

/**
 * `/auth/new-password`: "Choose a new password" after a recovery link or code signed the user
 * in. Saving it goes into the app; without a sign-in the way forward is a new link.
 */
export function NewPasswordScreen() {
  const services = useServices();
  const state = useAuthState(services.auth);
  const [email, setEmail] = useState("");

  if (state.status === "loading") {
    return (
      <AuthCard title="Choose a new password">
        <p className="muted" role="status">
          Loading…
        </p>
      </AuthCard>
    );
  }
  if (state.status === "signed-out") {
    return (
      <AuthCard title="Choose a new password">
        <p>Open the link from the password reset email first, or ask for a new one:</p>
        <ForgotPassword email={email} onEmailChange={setEmail} />
        <p className="auth-footer">
          <Link to="/">Sign in</Link>
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Choose a new password">
      <p className="muted">
        For <strong>{state.session.user.email}</strong>. Other devices signed in to this account are signed out.
      </p>
      <NewPasswordForm
        submitLabel="Save password"
        onSaved={() => {
          navigate("/", { replace: true });
          services.notices.show("Your new password is saved.");
        }}
      />
    </AuthCard>
  );
}
