import { CodeForm } from "./code-form";
import { ResendButton } from "./resend-button";

/** After a sign-up that must be confirmed: where the link went, the code instead, and "Send it again". */
export function CheckEmail({ email }: { email: string }) {
  return (
    <div className="form">
      <p className="notice" role="status">
        We sent a link to <strong>{email}</strong>. Open it to confirm your address, then you are signed in.
      </p>
      <p className="muted small">Or type the 6-digit code from the same email:</p>
      <CodeForm email={email} type="signup" />
      <div className="resend-row">
        <span className="muted small">No email? Check the spam folder, or</span>
        <ResendButton email={email} type="signup" />
      </div>
    </div>
  );
}
