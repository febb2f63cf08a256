import { useEffect, useId, useState, useSyncExternalStore } from "react";
import { AgentsScreen } from "./agents/agents-screen";
import { toErrorDetail } from "./api/api-error";
import { AuthScreen } from "./auth/auth-screen";
import { useAuthState } from "./auth/auth-store";
import { ChatScreen } from "./chat/chat-screen";
import { useModel } from "./model-store";
import { navigate, useRoute } from "./router";
import { useServices } from "./services";
import { ErrorMessage } from "./ui/error-message";

export function App() {
  const { auth } = useServices();
  const state = useAuthState(auth);
  if (state.status === "loading") {
    return (
      <p className="muted center page" role="status">
        Loading…
      </p>
    );
  }
  if (state.status === "signed-out") return <AuthScreen />;
  return <SignedIn userId={state.session.user.id} email={state.session.user.email} />;
}

function SignedIn({ userId, email }: { userId: string; email: string | undefined }) {
  const { api, tenants, model, chat, auth } = useServices();
  const tenantState = useSyncExternalStore(tenants.subscribe, tenants.getState);
  const route = useRoute();

  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    tenants.setMe({ status: "loading" });
    api.me().then(
      (me) => {
        if (!current) return;
        tenants.setMe({ status: "ready", me });
        model.set(me.model);
      },
      (thrown: unknown) => current && tenants.setMe({ status: "error", error: toErrorDetail(thrown) }),
    );
    return () => {
      current = false;
    };
  }, [api, tenants, model, userId, attempt]);

  async function signOut() {
    chat.reset();
    tenants.reset();
    model.set(undefined);
    await auth.client.auth.signOut();
    navigate("/", { replace: true });
  }

  const me = tenantState.me;
  const tenantId = tenantState.tenantId;
  return (
    <div className="app">
      <header className="topbar">
        <a
          href="/"
          className="brand"
          onClick={(event) => {
            event.preventDefault();
            navigate("/");
          }}
        >
          <span aria-hidden="true">🤖</span> Workforce
        </a>
        <div className="topbar-right">
          {me.status === "ready" ? <TenantSwitcher /> : null}
          <span className="user-email muted small" title={email}>
            {email}
          </span>
          <button type="button" className="button ghost small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <OfflineBanner />
      {me.status === "error" ? (
        <main className="page">
          <ErrorMessage error={me.error} />
          <button type="button" className="button" onClick={() => setAttempt((value) => value + 1)}>
            Try again
          </button>
        </main>
      ) : me.status !== "ready" ? (
        <p className="muted center page" role="status">
          Loading your workspace…
        </p>
      ) : !tenantId ? (
        <main className="page">
          <ErrorMessage error={{ code: "tenant_required", message: "Your account has no organisation yet." }} />
        </main>
      ) : route.screen === "chat" ? (
        <ChatScreen key={`${tenantId}/${route.agent}`} agent={route.agent} session={route.session} tenantId={tenantId} />
      ) : route.screen === "agents" ? (
        <AgentsScreen tenantId={tenantId} />
      ) : (
        <main className="page">
          <h1>Not found</h1>
          <p>
            <a href="/" onClick={(event) => (event.preventDefault(), navigate("/"))}>
              Back to agents
            </a>
          </p>
        </main>
      )}
    </div>
  );
}

function TenantSwitcher() {
  const { tenants } = useServices();
  const state = useSyncExternalStore(tenants.subscribe, tenants.getState);
  const id = useId();
  if (state.me.status !== "ready") return null;
  const list = state.me.me.tenants;
  if (list.length <= 1) {
    return <span className="tenant-name small" title={list[0]?.name}>{list[0]?.name}</span>;
  }
  return (
    <div className="tenant-switcher">
      <label htmlFor={id} className="visually-hidden">
        Organisation
      </label>
      <select
        id={id}
        value={state.tenantId}
        onChange={(event) => {
          tenants.select(event.target.value);
          navigate("/");
        }}
      >
        {list.map((tenant) => (
          <option key={tenant.id} value={tenant.id}>
            {tenant.name} ({tenant.role})
          </option>
        ))}
      </select>
    </div>
  );
}

function OfflineBanner() {
  const { model } = useServices();
  const info = useModel(model);
  if (!info?.offline) return null;
  return (
    <div className="offline-banner" role="status" data-testid="offline-banner">
      <strong>Offline model</strong> — replies are generated locally without an AI provider. Set <code>ANTHROPIC_API_KEY</code> to use Claude.
    </div>
  );
}
