import type { AuthError, Session, SupabaseClient } from "@supabase/supabase-js";
import { useEffect, useId, useState } from "react";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { Link } from "../ui/link";
import { afterVerified, isVerifyType, type VerifyType } from "./after-verify";
import { AuthCard } from "./auth-card";
import { useAuthState } from "./auth-store";
import { describeAuthError, type AuthErrorDetail } from "./auth-errors";
import { ForgotPassword } from "./forgot-password";
import { ResendButton } from "./resend-button";

type Outcome = { session: Session | null; error: AuthError | null };

// A link works once: remember each attempt so a re-mounted screen (StrictMode) shows its result
// instead of verifying again and reading "already used".
const verifications = new Map<string, Promise<Outcome>>();

function verifyOnce(client: SupabaseClient, tokenHash: string, type: VerifyType): Promise<Outcome> {
  const key = `${type}:${tokenHash}`;
  let attempt = verifications.get(key);
  if (!attempt) {
    attempt = client.auth.verifyOtp({ token_hash: tokenHash, type }).then(({ data, error }) => ({ session: data.session, error }));
    verifications.set(key, attempt);
  }
  return attempt;
}

/**
 * `/auth/confirm?token_hash=…&type=…`, the link in every account mail: verifies it (which signs
 * the user in) and goes on to where it leads, or says why it cannot and what to do instead.
 */
export function ConfirmScreen({ tokenHash, type }: { tokenHash: string | undefined; type: string | undefined }) {
  const services = useServices();
  const [error, setError] = useState<AuthErrorDetail>();
  const valid = tokenHash !== undefined && isVerifyType(type);

  useEffect(() => {
    if (!valid) return;
    let current = true;
    verifyOnce(services.auth.client, tokenHash, type).then(
      ({ session, error: verifyError }) => {
        if (!current) return;
        if (verifyError) setError(describeAuthError(verifyError));
        else afterVerified(services, type, session);
      },
      (thrown: unknown) => current && setError(describeAuthError(thrown)),
    );
    return () => {
      current = false;
    };
  }, [services, tokenHash, type, valid]);

  if (!valid) {
    return (
      <AuthCard title="This link is incomplete">
        <p>The address in the email was cut short. Copy the whole link from the email into the address bar, or type the code from the email where you asked for it.</p>
        <WayOut />
      </AuthCard>
    );
  }
  if (!error) {
    return (
      <AuthCard title="Confirming…">
        <p className="muted" role="status">
          One moment, checking the link.
        </p>
      </AuthCard>
    );
  }
  return <LinkFailed type={type} error={error} />;
}

/** Where an expired or used link leaves the user: a new one of the same kind, or signing in. */
function LinkFailed({ type, error }: { type: VerifyType; error: AuthErrorDetail }) {
  const expired = error.code === "otp_expired";
  if (type === "recovery") {
    return (
      <AuthCard title={expired ? "This reset link has expired" : "The link did not work"}>
        <ErrorMessage error={expired ? { code: error.code, message: error.message, sentence: "This password reset link has expired or was already used. Ask for a new one below." } : error} />
        <ForgotPasswordInline />
        <WayOut />
      </AuthCard>
    );
  }
  if (type === "email_change") {
    return (
      <AuthCard title={expired ? "This link has expired" : "The link did not work"}>
        <ErrorMessage error={expired ? { code: error.code, message: error.message, sentence: "This link to confirm a new address has expired or was already used." } : error} />
        <p>Open your account settings to send a new one; until then your address stays as it was.</p>
        <p>
          <Link to="/account" className="button primary">
            Account settings
          </Link>
        </p>
      </AuthCard>
    );
  }
  return (
    <AuthCard title={expired ? "This link has expired" : "The link did not work"}>
      <ErrorMessage error={expired ? { code: error.code, message: error.message, sentence: "This confirmation link has expired or was already used." } : error} />
      <p>If you already confirmed your address, just sign in. Otherwise we can send you a new link:</p>
      <NewConfirmationLink />
      <WayOut />
    </AuthCard>
  );
}

function ForgotPasswordInline() {
  const [email, setEmail] = useState("");
  return <ForgotPassword email={email} onEmailChange={setEmail} />;
}

function NewConfirmationLink() {
  const [email, setEmail] = useState("");
  const id = useId();
  return (
    <div className="inline-form">
      <div className="field grow">
        <label htmlFor={id}>Email</label>
        <input id={id} type="email" inputMode="email" autoComplete="email" value={email} onChange={(event) => setEmail(event.target.value)} />
      </div>
      <ResendButton email={email.trim()} type="signup" label="Send a new link" disabled={!email.includes("@")} />
    </div>
  );
}

function WayOut() {
  const { auth } = useServices();
  const signedIn = useAuthState(auth).status === "signed-in";
  return (
    <p className="auth-footer">
      <Link to="/">{signedIn ? "Open Workforce" : "Sign in"}</Link>
    </p>
  );
}
