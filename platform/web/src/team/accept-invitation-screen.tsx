import { useEffect, useState } from "react";
import { toErrorDetail } from "../api/api-error";
import type { ApiClient } from "../api/client";
import type { Tenant } from "../api/platform-schemas";
import { useServices } from "../services";
import { loadWorkspace } from "../tenants/load-workspace";
import type { Workspace } from "../tenants/tenant-store";
import { ErrorMessage } from "../ui/error-message";
import { Link } from "../ui/link";

// A token works once: remember each attempt so a re-mounted screen (StrictMode, a re-render after
// the workspace reloads) shows its result instead of accepting again and reading "already used".
const attempts = new Map<string, Promise<Tenant>>();

function acceptOnce(api: ApiClient, userId: string, token: string): Promise<Tenant> {
  const key = `${userId}:${token}`;
  let attempt = attempts.get(key);
  if (!attempt) {
    attempt = api.acceptInvitation(token);
    attempts.set(key, attempt);
    // A failure may be temporary (network); let a later visit try again.
    attempt.catch(() => attempts.delete(key));
  }
  return attempt;
}

type State = { status: "joining" } | { status: "joined"; tenant: Tenant } | { status: "error"; error: { code: string; message: string } };

/**
 * `/invite/{token}`: joins the organisation as soon as the user is signed in (a signed-out visitor
 * sees the sign-in screen first and lands back here), then switches to it.
 */
export function AcceptInvitationScreen({ token, user }: { token: string; user: Workspace["user"] }) {
  const services = useServices();
  const [state, setState] = useState<State>({ status: "joining" });
  const { id: userId, email } = user;

  // Keyed on the user's id, not the object: reloading the workspace hands us a new one.
  useEffect(() => {
    let current = true;
    acceptOnce(services.api, userId, token).then(
      async (tenant) => {
        if (!current) return;
        await loadWorkspace(services, { id: userId, email }, { quiet: true });
        services.tenants.select(tenant.id);
        if (current) setState({ status: "joined", tenant });
      },
      (thrown: unknown) => current && setState({ status: "error", error: toErrorDetail(thrown) }),
    );
    return () => {
      current = false;
    };
  }, [services, token, userId, email]);

  return (
    <main className="page narrow" id="main" tabIndex={-1}>
      <h1>Invitation</h1>
      <div aria-live="polite">
        {state.status === "joining" ? (
          <p className="muted">Joining the organisation…</p>
        ) : state.status === "joined" ? (
          <section className="card" aria-labelledby="joined-title">
            <h2 id="joined-title">You joined {state.tenant.name}</h2>
            <p>
              You are a <strong>{state.tenant.role}</strong> of {state.tenant.name}. It is now selected in the organisation switcher.
            </p>
            <Link to="/" className="button primary">
              Go to agents
            </Link>
          </section>
        ) : (
          <>
            <ErrorMessage error={state.error} />
            <p className="muted">
              {state.error.code === "forbidden"
                ? `You are signed in as ${email ?? "another account"}. Sign out, then sign in or sign up with the invited address; this link stays open.`
                : "Ask the person who invited you for a new link."}
            </p>
            <Link to="/">Back to agents</Link>
          </>
        )}
      </div>
    </main>
  );
}
