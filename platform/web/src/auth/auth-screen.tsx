import { useId, useState, type FormEvent } from "react";
import { useServices } from "../services";
import { ErrorMessage } from "../ui/error-message";
import { describeAuthError } from "./auth-store";

type Action = "sign-in" | "sign-up";

/**
 * Sign in or sign up with email and password through supabase-js. One form, two buttons: Enter
 * signs in. The form does not use browser validation so the server's own message is always shown.
 */
export function AuthScreen({ invitation = false }: { invitation?: boolean }) {
  const { auth } = useServices();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState<Action>();
  const [error, setError] = useState<{ code: string | undefined; message: string }>();
  const [notice, setNotice] = useState<string>();
  const id = useId();

  async function run(action: Action) {
    setBusy(action);
    setError(undefined);
    setNotice(undefined);
    try {
      if (action === "sign-up") {
        const { data, error: signUpError } = await auth.client.auth.signUp({ email: email.trim(), password });
        if (signUpError) setError(describeAuthError(signUpError));
        else if (!data.session) setNotice("Check your inbox to confirm your email address, then sign in.");
      } else {
        const { error: signInError } = await auth.client.auth.signInWithPassword({ email: email.trim(), password });
        if (signInError) setError(describeAuthError(signInError));
      }
    } catch (thrown) {
      setError(describeAuthError(thrown));
    } finally {
      setBusy(undefined);
    }
  }

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    void run("sign-in");
  }

  return (
    <main className="auth-page">
      <div className="auth-card">
        <h1 className="brand brand-large">
          <span aria-hidden="true">🤖</span> Workforce
        </h1>
        {invitation ? (
          <p className="notice" role="status">
            You have been invited to join an organisation. Sign in, or sign up with the invited email address, to accept.
          </p>
        ) : (
          <p className="muted">Sign in to your AI workforce, or create an account.</p>
        )}
        <form className="form" onSubmit={submit} noValidate aria-label="Account">
          <div className="field">
            <label htmlFor={`${id}-email`}>Email</label>
            <input
              id={`${id}-email`}
              name="email"
              type="email"
              inputMode="email"
              autoComplete="email"
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>Password</label>
            <input
              id={`${id}-password`}
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          </div>
          <ErrorMessage error={error} />
          {notice ? (
            <p className="notice" role="status">
              {notice}
            </p>
          ) : null}
          <div className="button-row">
            <button type="submit" className="button primary" disabled={busy !== undefined} aria-busy={busy === "sign-in"}>
              Sign in
            </button>
            <button type="button" className="button" disabled={busy !== undefined} aria-busy={busy === "sign-up"} onClick={() => void run("sign-up")}>
              Sign up
            </button>
          </div>
        </form>
      </div>
    </main>
  );
}
