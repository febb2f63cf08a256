import { useEffect, useState, useSyncExternalStore } from "react";
import { AgentsScreen } from "./agents/agents-screen";
import { AuthScreen } from "./auth/auth-screen";
import { useAuthState } from "./auth/auth-store";
import { ChatScreen } from "./chat/chat-screen";
import { KeysScreen } from "./keys/keys-screen";
import { useModel } from "./model-store";
import { navigate, useRoute, type Route } from "./router";
import { useServices } from "./services";
import { AcceptInvitationScreen } from "./team/accept-invitation-screen";
import { TeamScreen } from "./team/team-screen";
import { CreateOrganisationForm } from "./tenants/create-organisation-form";
import { loadWorkspace } from "./tenants/load-workspace";
import { TenantSwitcher } from "./tenants/tenant-switcher";
import type { Workspace } from "./tenants/tenant-store";
import { ErrorMessage } from "./ui/error-message";
import { Link } from "./ui/link";
import { MainNav } from "./ui/main-nav";
import { UsageScreen } from "./usage/usage-screen";

export function App() {
  const { auth } = useServices();
  const state = useAuthState(auth);
  const route = useRoute();
  if (state.status === "loading") {
    return (
      <p className="muted center page" role="status">
        Loading…
      </p>
    );
  }
  if (state.status === "signed-out") return <AuthScreen invitation={route.screen === "invite"} />;
  return <SignedIn userId={state.session.user.id} email={state.session.user.email} />;
}

function SignedIn({ userId, email }: { userId: string; email: string | undefined }) {
  const services = useServices();
  const { tenants, model, chat, auth } = services;
  const tenantState = useSyncExternalStore(tenants.subscribe, tenants.getState);
  const route = useRoute();

  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    let current = true;
    void loadWorkspace(services, { id: userId, email }, { isCurrent: () => current });
    return () => {
      current = false;
    };
  }, [services, userId, email, attempt]);

  async function signOut() {
    chat.reset();
    tenants.reset();
    model.set(undefined);
    await auth.client.auth.signOut();
    // An invitation link stays open so the right account can sign in and accept it.
    if (route.screen !== "invite") navigate("/", { replace: true });
  }

  const me = tenantState.me;
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <span aria-hidden="true">🤖</span> Workforce
        </Link>
        {me.status === "ready" && tenantState.tenantId ? <MainNav route={route} /> : null}
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
      {me.status === "ready" && me.me.gatewayError ? (
        <div className="banner-error">
          <ErrorMessage error={me.me.gatewayError}>
            <span>Agents and chats are unavailable until it is back; team, API keys and usage still work.</span>
            <button type="button" className="button small" onClick={() => setAttempt((value) => value + 1)}>
              Try again
            </button>
          </ErrorMessage>
        </div>
      ) : null}
      {me.status === "error" ? (
        <main className="page" id="main">
          <ErrorMessage error={me.error} />
          <button type="button" className="button" onClick={() => setAttempt((value) => value + 1)}>
            Try again
          </button>
        </main>
      ) : me.status !== "ready" ? (
        <p className="muted center page" role="status">
          Loading your workspace…
        </p>
      ) : (
        <Screen route={route} workspace={me.me} tenantId={tenantState.tenantId} />
      )}
    </div>
  );
}

function Screen({ route, workspace, tenantId }: { route: Route; workspace: Workspace; tenantId: string | undefined }) {
  const services = useServices();
  // An invitation can be accepted before the user belongs to any organisation.
  if (route.screen === "invite") return <AcceptInvitationScreen key={route.token} token={route.token} user={workspace.user} />;
  if (!tenantId) {
    return (
      <main className="page" id="main">
        <h1>Welcome</h1>
        <p className="muted">Your account has no organisation yet. Create one, or open an invitation link someone sent you.</p>
        <CreateOrganisationForm
          onCreated={(tenant) => {
            services.tenants.select(tenant.id);
            void loadWorkspace(services, workspace.user, { quiet: true });
          }}
        />
      </main>
    );
  }
  switch (route.screen) {
    case "chat":
      return <ChatScreen key={`${tenantId}/${route.agent}`} agent={route.agent} session={route.session} tenantId={tenantId} />;
    case "agents":
      return <AgentsScreen key={tenantId} tenantId={tenantId} />;
    case "team":
      return <TeamScreen key={tenantId} tenantId={tenantId} workspace={workspace} />;
    case "keys":
      return <KeysScreen key={tenantId} tenantId={tenantId} />;
    case "usage":
      return <UsageScreen key={tenantId} tenantId={tenantId} />;
    case "not-found":
      return (
        <main className="page" id="main">
          <h1>Not found</h1>
          <p>
            <Link to="/">Back to agents</Link>
          </p>
        </main>
      );
  }
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
