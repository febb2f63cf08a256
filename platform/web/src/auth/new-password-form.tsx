import { useId, useState, type FormEvent } from "react";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import type { AuthErrorDetail } from "./auth-errors";
import { changePassword, requestCode, type PasswordChange } from "./change-password";

/**
 * A new password, and when the server wants proof of a sign-in older than a day, the code it
 * mails ("We emailed you a code"). Used after a recovery link and in the account settings.
 */
export function NewPasswordForm({ submitLabel, onSaved }: { submitLabel: string; onSaved: () => void }) {
  const { auth } = useServices();
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [codeSent, setCodeSent] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<AuthErrorDetail>();
  const id = useId();

  async function run(step: () => Promise<PasswordChange>) {
    setBusy(true);
    setError(undefined);
    try {
      const outcome = await step();
      if (outcome.status === "saved") {
        setPassword("");
        setCode("");
        setCodeSent(false);
        onSaved();
      } else if (outcome.status === "code-sent") {
        setCodeSent(true);
      } else {
        setError(outcome.error);
      }
    } finally {
      setBusy(false);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void run(() => changePassword(auth.client.auth, password, codeSent ? code.replace(/\s+/g, "") : undefined));
  }

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Set password">
      <div className="field">
        <label htmlFor={`${id}-password`}>New password</label>
        <input
          id={`${id}-password`}
          name="new-password"
          type="password"
          autoComplete="new-password"
          value={password}
          onChange={(event) => setPassword(event.target.value)}
          aria-describedby={`${id}-hint`}
        />
        <p id={`${id}-hint`} className="hint">
          At least 8 characters.
        </p>
      </div>
      {codeSent ? (
        <>
          <p className="notice" role="status">
            We emailed you a code to confirm it is you. Enter it to change the password.
          </p>
          <div className="field">
            <label htmlFor={`${id}-code`}>Code from the email</label>
            <input
              id={`${id}-code`}
              name="code"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={8}
              value={code}
              onChange={(event) => setCode(event.target.value)}
            />
          </div>
        </>
      ) : null}
      <ErrorMessage error={error} />
      <div className="button-row">
        <button type="submit" className="button primary" disabled={busy || password === "" || (codeSent && code.trim() === "")} aria-busy={busy}>
          {submitLabel}
        </button>
        {codeSent ? (
          <button type="button" className="button" disabled={busy} onClick={() => void run(() => requestCode(auth.client.auth))}>
            Send a new code
          </button>
        ) : null}
      </div>
    </form>
  );
}
