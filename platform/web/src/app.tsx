import type { Session } from "@supabase/supabase-js";
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { AccountScreen } from "./account/account-screen";
import { UnconfirmedBanner } from "./account/unconfirmed-banner";
import { AgentsScreen } from "./agents/agents-screen";
import { ApprovalsScreen } from "./approvals/approvals-screen";
import { AuthScreen } from "./auth/auth-screen";
import { useAuthState } from "./auth/auth-store";
import { ConfirmScreen } from "./auth/confirm-screen";
import { GatewayBanner } from "./errors/gateway-banner";
import { NewPasswordScreen } from "./auth/new-password-screen";
import { ChatScreen } from "./chat/chat-screen";
import { IntegrationsScreen } from "./integrations/integrations-screen";
import { InviteScreen } from "./invite/invite-screen";
import { KeysScreen } from "./keys/keys-screen";
import { useModel } from "./model-store";
import { OperatorScreen } from "./operator/operator-screen";
import { navigate, useRoute, type Route } from "./router";
import { useServices } from "./services";
import { TeamScreen } from "./team/team-screen";
import { CreateOrganisationForm } from "./tenants/create-organisation-form";
import { loadWorkspace } from "./tenants/load-workspace";
import { SuspendedScreen } from "./tenants/suspended-screen";
import { SuspensionBanner } from "./tenants/suspension-banner";
import { TenantSwitcher } from "./tenants/tenant-switcher";
import { currentTenant, type Workspace, type WorkspaceUser } from "./tenants/tenant-store";
import { ErrorMessage } from "./ui/error-message";
import { Link } from "./ui/link";
import { MainNav } from "./ui/main-nav";
import { NoticeBanner } from "./ui/notice-banner";
import { UsageScreen } from "./usage/usage-screen";
import { WorkScreen } from "./work/work-screen";
import { WebhooksScreen } from "./webhooks/webhooks-screen";

export function App() {
  const { auth } = useServices();
  const state = useAuthState(auth);
  const route = useRoute();
  // The pages mailed links open work signed in or out, and stay mounted while they sign the user in.
  if (route.screen === "confirm") return <ConfirmScreen key={`${route.type}:${route.tokenHash}`} tokenHash={route.tokenHash} type={route.type} />;
  if (route.screen === "new-password") return <NewPasswordScreen />;
  if (route.screen === "invite") return <InviteScreen key={route.token} token={route.token} />;
  if (state.status === "loading") {
    return (
      <p className="muted center page" role="status">
        Loading…
      </p>
    );
  }
  if (state.status === "signed-out") return <AuthScreen />;
  return <SignedIn session={state.session} />;
}

/** Who is signed in as far as the session knows; `/api/me` says it better, unless the gateway is down. */
function sessionUser(session: Session): WorkspaceUser {
  const { user } = session;
  return { id: user.id, email: user.email, emailConfirmed: user.email_confirmed_at != null, operator: user.app_metadata.operator === true };
}

function SignedIn({ session }: { session: Session }) {
  const services = useServices();
  const { tenants, auth } = services;
  const tenantState = useSyncExternalStore(tenants.subscribe, tenants.getState);
  const route = useRoute();
  const email = session.user.email;

  const [attempt, setAttempt] = useState(0);
  const me = tenantState.me;
  const workspace = me.status === "ready" ? me.me : undefined;
  const fallback = sessionUser(session);
  const { id: userId, emailConfirmed, operator } = fallback;
  useEffect(() => {
    let current = true;
    void loadWorkspace(services, { id: userId, email, emailConfirmed, operator }, { isCurrent: () => current });
    return () => {
      current = false;
    };
  }, [services, userId, email, emailConfirmed, operator, attempt]);

  // Quietly (the screen stays): the banner goes away by itself once the gateway answers again.
  const checkGateway = useCallback(
    () => loadWorkspace(services, { id: userId, email, emailConfirmed, operator }, { quiet: true }),
    [services, userId, email, emailConfirmed, operator],
  );
  // Screens that failed while the gateway was down load again when it is back.
  const gatewayDown = workspace?.gatewayError !== undefined;
  const [recoveries, setRecoveries] = useState(0);
  const wasDown = useRef(false);
  useEffect(() => {
    if (wasDown.current && !gatewayDown) setRecoveries((value) => value + 1);
    wasDown.current = gatewayDown;
  }, [gatewayDown]);

  async function signOut() {
    // This browser only; the account settings offer signing out everywhere.
    await auth.client.auth.signOut({ scope: "local" });
    navigate("/", { replace: true });
  }

  const tenantScreen = route.screen !== "account" && route.screen !== "operator";
  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/" className="brand">
          <span aria-hidden="true">🤖</span> Workforce
        </Link>
        {workspace && tenantState.tenantId ? <MainNav route={route} operator={workspace.user.operator} tenantId={tenantState.tenantId} /> : null}
        <div className="topbar-right">
          {workspace ? <TenantSwitcher /> : null}
          <Link to="/account" className="account-link small" title="Account settings" aria-current={route.screen === "account" ? "page" : undefined}>
            <span className="user-email">{email}</span>
            <span className="account-short">Account</span>
          </Link>
          <button type="button" className="button ghost small" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      </header>
      <NoticeBanner />
      <OfflineBanner />
      {workspace && route.screen !== "account" ? <UnconfirmedBanner user={workspace.user} /> : null}
      {workspace && tenantScreen ? <SuspensionBanner workspace={workspace} /> : null}
      <GatewayBanner error={workspace?.gatewayError} check={checkGateway} />
      {me.status === "error" ? (
        <main className="page" id="main">
          <ErrorMessage error={me.error} />
          <button type="button" className="button" onClick={() => setAttempt((value) => value + 1)}>
            Try again
          </button>
        </main>
      ) : !workspace ? (
        <p className="muted center page" role="status">
          Loading your workspace…
        </p>
      ) : (
        // Suspending or lifting remounts the screen, so it loads again what was refused (or is now).
        <Screen key={`${currentTenant(tenantState)?.suspended ? "suspended" : "active"}:${recoveries}`} route={route} workspace={workspace} tenantId={tenantState.tenantId} />
      )}
    </div>
  );
}

function Screen({ route, workspace, tenantId }: { route: Route; workspace: Workspace; tenantId: string | undefined }) {
  // The account and the installation are not about the selected organisation.
  if (route.screen === "account") return <AccountScreen />;
  if (route.screen === "operator") return <OperatorScreen operator={workspace.user.operator} />;
  if (!tenantId) return <Welcome workspace={workspace} />;
  const tenant = workspace.tenants.find((candidate) => candidate.id === tenantId);
  // Suspended: the chat stays (its composer turned off); the other screens would only show refusals.
  if (tenant?.suspended && (route.screen === "agents" || route.screen === "team" || route.screen === "keys" || route.screen === "usage" || route.screen === "integrations" || route.screen === "approvals" || route.screen === "webhooks")) {
    return <SuspendedScreen screen={route.screen} organisation={tenant.name} />;
  }
  switch (route.screen) {
    case "chat":
      return <ChatScreen key={`${tenantId}/${route.agent}`} agent={route.agent} session={route.session} tenantId={tenantId} />;
    case "work":
      return <WorkScreen key={`${tenantId}/${route.agent}`} agent={route.agent} tenantId={tenantId} />;
    case "agents":
      return <AgentsScreen key={tenantId} tenantId={tenantId} />;
    case "team":
      return <TeamScreen key={tenantId} tenantId={tenantId} workspace={workspace} />;
    case "keys":
      return <KeysScreen key={tenantId} tenantId={tenantId} />;
    case "usage":
      return <UsageScreen key={tenantId} tenantId={tenantId} />;
    case "integrations":
      return <IntegrationsScreen key={tenantId} tenantId={tenantId} />;
    case "approvals":
      return <ApprovalsScreen key={tenantId} tenantId={tenantId} />;
    case "webhooks":
      return <WebhooksScreen key={tenantId} tenantId={tenantId} />;
    // Rendered by App before the signed-in shell.
    case "invite":
    case "confirm":
    case "new-password":
      return null;
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

/** Signed in without any organisation: create one where the sign-up policy allows, else ask for an invitation. */
function Welcome({ workspace }: { workspace: Workspace }) {
  const services = useServices();
  return (
    <main className="page" id="main">
      <h1>Welcome</h1>
      {workspace.canCreateOrganisation ? (
        <>
          <p className="muted">Your account has no organisation yet. Create one, or open an invitation link someone sent you.</p>
          <CreateOrganisationForm
            onCreated={(tenant) => {
              // Read the organisations first, so the top bar names the new one as soon as its screen shows.
              void loadWorkspace(services, workspace.user, { quiet: true }).then(() => services.tenants.select(tenant.id));
            }}
          />
        </>
      ) : (
        <p className="notice" role="note">
          Your account has no organisation yet. Ask an owner of one for an invitation: the link in their email brings you in.
        </p>
      )}
      {workspace.user.operator ? (
        <p>
          <Link to="/operator">Every organisation on this installation</Link>
        </p>
      ) : null}
    </main>
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
