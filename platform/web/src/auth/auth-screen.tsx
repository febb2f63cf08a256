import { useState } from "react";
import { AuthCard } from "./auth-card";
import { CheckEmail } from "./check-email";
import { ForgotPassword } from "./forgot-password";
import { SignInForm } from "./sign-in-form";

type View = { name: "sign-in" } | { name: "forgot" } | { name: "check-email"; email: string };

/**
 * What a signed-out visitor sees: sign in (or sign up, where the installation's policy allows),
 * "Forgot password?", and "Check your email" after a sign-up that needs its address confirmed.
 */
export function AuthScreen() {
  const [view, setView] = useState<View>({ name: "sign-in" });
  // The address typed on one view is there on the next.
  const [email, setEmail] = useState("");

  switch (view.name) {
    case "sign-in":
      return (
        <AuthCard>
          <SignInForm
            email={email}
            onEmailChange={setEmail}
            onForgot={() => setView({ name: "forgot" })}
            onCheckEmail={(address) => setView({ name: "check-email", email: address })}
          />
        </AuthCard>
      );
    case "forgot":
      return (
        <AuthCard title="Reset your password">
          <ForgotPassword email={email} onEmailChange={setEmail} />
          <BackToSignIn onClick={() => setView({ name: "sign-in" })} />
        </AuthCard>
      );
    case "check-email":
      return (
        <AuthCard title="Check your email">
          <CheckEmail email={view.email} />
          <BackToSignIn onClick={() => setView({ name: "sign-in" })} />
        </AuthCard>
      );
  }
}

function BackToSignIn({ onClick }: { onClick: () => void }) {
  return (
    <p className="auth-footer">
      <button type="button" className="link-button" onClick={onClick}>
        Back to sign in
      </button>
    </p>
  );
}
