/**
 * The access matrix: every operation of the served OpenAPI document × every kind of caller ×
 * the objects it may act on (one's own, a colleague's, nobody's, another organisation's),
 * asserting what the operation's `x-workforce-access` (the permission table) implies. An
 * operation without a case here fails the suite, so no route can go unchecked.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CALLER_KINDS, createAccessFixtures, type AccessFixtures, type Caller } from "../test-support/access-fixtures";
import { TEST_ORIGIN } from "../test-support/test-platform";

type Role = "owner" | "admin" | "member";
interface Access {
  operation: string;
  level: "public" | "session" | "account" | "operator" | "tenant";
  roles: Role[];
  apiKeyScope: string | null;
  ownership?: { object: "session" | "run" | "member"; others: Role[]; visibleTo: Role[]; unowned?: Role[] };
}
interface DocumentedOperation {
  id: string;
  method: string;
  path: string;
  access: Access;
  successStatus: number;
}

/** How the object stands to the caller. `none`: the operation has no object. */
type Relation = "none" | "own" | "other" | "unowned" | "foreign-org" | "new" | "mine" | "all";
/** The object kinds without owners: only "in this organisation" or "in another". */
const NOT_FOUND_CODE: Record<string, string> = { session: "session_not_found", run: "run_not_found", member: "not_found", agent: "agent_not_found", invitation: "not_found", key: "not_found", "composio-connection": "not_found", "mcp-server": "mcp_server_not_found", schedule: "schedule_not_found", approval: "approval_not_found", webhook: "webhook_not_found" };

interface RequestSpec {
  path: string;
  body?: unknown;
  /** Replaces the caller's credentials (a fresh sign-in, another organisation). */
  token?: string;
  headers?: Record<string, string>;
}
interface Case {
  /** The object kind, for the 404 code; undefined when there is none. */
  object?: keyof typeof NOT_FOUND_CODE;
  relations: Relation[];
  request: (caller: Caller, relation: Relation) => Promise<RequestSpec>;
  /** Checks a successful answer beyond its status. */
  verify?: (caller: Caller, relation: Relation, response: Response) => Promise<void>;
}

let fx: AccessFixtures;
let operations: DocumentedOperation[];

beforeAll(async () => {
  fx = await createAccessFixtures();
  const response = await fx.platform.app.request(`${TEST_ORIGIN}/api/openapi.json`);
  const document = (await response.json()) as { paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown>; "x-workforce-access": Access }>> };
  operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({
      id: operation.operationId,
      method: method.toUpperCase(),
      path,
      access: operation["x-workforce-access"],
      successStatus: Number(Object.keys(operation.responses).find((status) => status !== "default")),
    })),
  );
}, 120_000);
afterAll(async () => {
  await fx?.close();
});

/** What the permission table says this caller gets: a success, or the error's status and code. */
function expected(operation: DocumentedOperation, object: string | undefined, caller: Caller, relation: Relation): { status: number; code?: string } {
  const success = { status: operation.successStatus };
  const { access } = operation;
  const isKey = caller.key !== undefined;
  if (access.level === "public") return success;
  if (caller.kind === "anonymous") return { status: 401, code: "unauthorized" };
  if (access.level === "session") return isKey ? { status: 401, code: "invalid_token" } : success;
  if (access.level === "account") return isKey ? { status: 403, code: "forbidden" } : success;
  // The installation's operator is its first account: organisation A's owner.
  // Every organisation is the operator's to see, so "another organisation's" is one that does not exist.
  if (access.level === "operator") {
    if (caller.person !== fx.people.owner) return { status: 403, code: "forbidden" };
    return relation === "foreign-org" ? { status: 404, code: "not_found" } : success;
  }
  const forbidden = { status: 403, code: "forbidden" };
  if (caller.kind === "outsider") return forbidden;
  if (isKey && (access.apiKeyScope === null || caller.kind === "key-without-scope")) return forbidden;
  if (!isKey && (caller.role === null || !access.roles.includes(caller.role))) return forbidden;
  const notFound = { status: 404, code: NOT_FOUND_CODE[object ?? ""] ?? "not_found" };
  const role = caller.role;
  const may = (roles: Role[] | undefined) => role !== null && (roles ?? []).includes(role);
  const ownership = access.ownership;
  const onOthers = () => (may(ownership?.others) ? success : may(ownership?.visibleTo) ? forbidden : notFound);
  const onUnowned = () => (may(ownership?.unowned) ? success : notFound);
  switch (relation) {
    case "none":
    case "own":
    case "new":
    case "mine":
      return success;
    case "all":
      // Listing everyone's is refused outright, never "not found".
      return may(ownership?.others) ? success : forbidden;
    case "other":
      // Without an ownership rule, the role alone decides (an admin changing a member's role).
      return ownership ? onOthers() : success;
    case "unowned":
      return onUnowned();
    case "foreign-org": {
      // Another organisation's id is, here, an object that does not exist.
      const base = !ownership ? success : ownership.object === "member" ? onOthers() : onUnowned();
      return base.status === success.status ? notFound : base;
    }
  }
}

const principalOf = (caller: Caller) => caller.person ?? caller.key;
/** The caller's own chat in organisation A; someone else's for callers who cannot chat there. */
async function ownChat(caller: Caller, fresh = false) {
  const canChat = caller.kind !== "outsider" && caller.kind !== "anonymous" && !(caller.kind === "key-without-scope" && caller.key === fx.callerOf("key-without-scope", "chat").key);
  const principal = principalOf(caller);
  return canChat && principal ? fx.chatAs(principal, { fresh }) : fx.chatAs(fx.people.member, { fresh });
}
/** A colleague's chat: the other member's for a member, else the first member's. */
const colleague = (caller: Caller) => (caller.kind === "member" ? fx.people.member2 : fx.people.member);
async function sessionFor(caller: Caller, relation: Relation, fresh = false): Promise<string> {
  if (relation === "own") return (await ownChat(caller, fresh)).sessionKey;
  if (relation === "other") return (await fx.chatAs(colleague(caller), { fresh })).sessionKey;
  if (relation === "unowned") return fx.unownedSession(fresh);
  return fx.foreign.sessionKey;
}
async function runFor(caller: Caller, relation: Relation): Promise<string> {
  if (relation === "own") return (await ownChat(caller)).runId;
  if (relation === "other") return (await fx.chatAs(colleague(caller))).runId;
  if (relation === "unowned") return fx.unownedRun();
  return fx.foreign.runId;
}
/** An approval in a session standing to the caller as `relation` (a fresh one to decide). */
async function approvalFor(caller: Caller, relation: Relation, fresh = false): Promise<string> {
  if (relation === "foreign-org") return fx.foreign.approvalId;
  const session = await sessionFor(caller, relation);
  const cached = approvals.get(session);
  if (cached && !fresh) return cached;
  const id = await fx.pausedApproval(session);
  approvals.set(session, id);
  return id;
}
const approvals = new Map<string, string>();
const mcpServerPath = (id: string) => `/api/integrations/mcp/servers/${id}`;
const mcpServerFor = (relation: Relation, fresh = false) => (relation === "own" ? fx.mcpServer(fresh) : Promise.resolve(fx.foreign.mcpServerId));
/** Organisation A's schedule of "ada", or organisation B's id asked for under "ada" (another organisation's: not found). */
const schedulePath = async (relation: Relation, fresh = false) => `/api/agents/ada/schedules/${relation === "own" ? await fx.schedule(fresh) : fx.foreign.scheduleId}`;
const agentPath = (relation: Relation) => `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}`;
const webhookFor = (relation: Relation, fresh = false) => (relation === "own" ? fx.webhook(fresh) : Promise.resolve(fx.foreign.webhookId));
const webhookPath = async (relation: Relation, fresh = false) => `/api/webhooks/${await webhookFor(relation, fresh)}`;
const SESSION_RELATIONS: Relation[] = ["own", "other", "unowned", "foreign-org"];
const sessionPath = (key: string) => `/api/agents/ada/sessions/${key}`;

/** Asserts a session list shows what the caller may see. */
async function verifyList(caller: Caller, relation: Relation, response: Response) {
  const { sessions } = (await response.json()) as { sessions: { key: string; owner: { type: string; id: string | null } }[] };
  const self = caller.person?.userId ?? caller.key?.id;
  if (relation === "mine") {
    expect(sessions.every((session) => session.owner.id === self)).toBe(true);
    if (caller.kind !== "key-without-scope") expect(sessions.map((session) => session.key)).toContain((await ownChat(caller)).sessionKey);
  }
  else expect(sessions.map((session) => session.key)).toEqual(expect.arrayContaining([(await fx.chatAs(fx.people.member)).sessionKey, fx.unownedSession()]));
}

const CASES: Record<string, Case> = {
  "auth.signup": { relations: ["none"], request: async () => ({ path: "/auth/v1/signup", body: { email: `${fx.unique("new")}@n.example`, password: fx.password } }) },
  "auth.sign-in": { relations: ["none"], request: async () => ({ path: "/auth/v1/token?grant_type=password", body: { email: fx.people.owner.email, password: fx.password } }) },
  "auth.refresh": {
    relations: ["none"],
    request: async () => ({ path: "/auth/v1/token?grant_type=refresh_token", body: { refresh_token: (await fx.freshSignIn(fx.people.member.email)).refresh } }),
  },
  "auth.user": { relations: ["none"], request: async () => ({ path: "/auth/v1/user" }) },
  "auth.sign-out": {
    relations: ["none"],
    // Sign out of a fresh session of one's own, so the shared tokens stay usable.
    request: async (caller) => ({ path: "/auth/v1/logout?scope=local", ...(caller.person ? { token: (await fx.freshSignIn(caller.person.email)).access } : {}) }),
  },
  "auth.update-user": { relations: ["none"], request: async () => ({ path: "/auth/v1/user", body: {} }) },
  "auth.reauthenticate": { relations: ["none"], request: async () => ({ path: "/auth/v1/reauthenticate" }) },
  "auth.verify": {
    relations: ["none"],
    request: async () => ({ path: "/auth/v1/verify", body: { type: "signup", token_hash: await fx.confirmationToken() } }),
  },
  "auth.recover": { relations: ["none"], request: async () => ({ path: "/auth/v1/recover", body: { email: fx.people.member.email } }) },
  "auth.resend": { relations: ["none"], request: async () => ({ path: "/auth/v1/resend", body: { type: "signup", email: `${fx.unique("nobody")}@n.example` } }) },
  "auth.jwks": { relations: ["none"], request: async () => ({ path: "/auth/v1/.well-known/jwks.json" }) },
  "service.docs-style": { relations: ["none"], request: async () => ({ path: "/api/docs.css" }) },
  "invitations.preview": { relations: ["none"], request: async () => ({ path: "/api/invitations/preview", body: { token: await fx.invitationFor(`${fx.unique("previewed")}@c.example`) } }) },
  "operator.tenants": { relations: ["none"], request: async () => ({ path: "/api/operator/tenants" }) },
  "operator.suspend": {
    relations: ["none"],
    // Lifting a suspension that is not there changes nothing, so the shared organisations stay usable.
    request: async () => ({ path: `/api/operator/tenants/${fx.people.outsider.tenantId}`, body: { suspended: false, suspendedReason: null } }),
  },
  "operator.limits": {
    relations: ["none", "foreign-org"],
    // Every organisation is the operator's to see; an id that names none is 404 even to them.
    request: async (_caller, relation) => ({ path: `/api/operator/tenants/${relation === "none" ? fx.people.outsider.tenantId : "00000000-0000-4000-8000-000000000000"}/limits` }),
  },
  "operator.update-limits": {
    relations: ["none", "foreign-org"],
    // Setting a limit to the default it already has changes nothing the other cases depend on.
    request: async (_caller, relation) => ({
      path: `/api/operator/tenants/${relation === "none" ? fx.people.outsider.tenantId : "00000000-0000-4000-8000-000000000000"}/limits`,
      body: { maxQueuedRuns: null },
    }),
  },
  "limits.read": { relations: ["none"], request: async () => ({ path: "/api/limits" }) },
  "service.health": { relations: ["none"], request: async () => ({ path: "/api/health" }) },
  "service.stream-probe": { relations: ["none"], request: async () => ({ path: "/api/health/stream-probe" }) },
  "service.config": { relations: ["none"], request: async () => ({ path: "/api/config" }) },
  "service.openapi": { relations: ["none"], request: async () => ({ path: "/api/openapi.json" }) },
  "service.docs": { relations: ["none"], request: async () => ({ path: "/api/docs" }) },
  "account.me": { relations: ["none"], request: async () => ({ path: "/api/me" }) },
  "tenants.list": { relations: ["none"], request: async () => ({ path: "/api/tenants" }) },
  "tenants.create": { relations: ["none"], request: async () => ({ path: "/api/tenants", body: { name: fx.unique("Org") } }) },
  "invitations.accept": {
    relations: ["none"],
    request: async (caller) => ({ path: "/api/invitations/accept", body: { token: await fx.invitationFor(caller.person?.email ?? "nobody@c.example") } }),
  },
  "tenant.rename": { relations: ["none"], request: async () => ({ path: "/api/tenant", body: { name: "Organisation A" } }) },
  "tenant.export": { relations: ["none"], request: async () => ({ path: "/api/tenant/export" }) },
  "tenant.delete": {
    relations: ["none"],
    request: async (caller) => {
      if (caller.kind !== "owner") return { path: "/api/tenant", body: { confirm: "Organisation A" } };
      const doomed = await fx.freshOrganisation();
      return { path: "/api/tenant", body: { confirm: doomed.name }, headers: { "x-tenant-id": doomed.id } };
    },
  },
  "members.list": { relations: ["none"], request: async () => ({ path: "/api/members" }) },
  "members.update": {
    object: "member",
    relations: ["own", "other", "foreign-org"],
    request: async (caller, relation) => {
      if (relation === "own") return { path: `/api/members/${caller.person?.userId ?? fx.people.member.userId}`, body: { role: caller.role ?? "member" } };
      if (relation === "other") return { path: `/api/members/${colleague(caller).userId}`, body: { role: "member" } };
      return { path: `/api/members/${fx.foreign.userId}`, body: { role: "member" } };
    },
  },
  "members.remove": {
    object: "member",
    relations: ["own", "other", "foreign-org"],
    request: async (caller, relation) => {
      if (relation === "own") {
        // Leaving: a stand-in of the same role leaves, so the shared callers stay.
        if (!caller.role || !caller.person) return { path: `/api/members/${caller.person?.userId ?? fx.people.member.userId}` };
        const standIn = await fx.freshMember(caller.role);
        return { path: `/api/members/${standIn.userId}`, token: standIn.token };
      }
      if (relation === "other") return { path: `/api/members/${(await fx.freshMember()).userId}` };
      return { path: `/api/members/${fx.foreign.userId}` };
    },
  },
  "invitations.list": { relations: ["none"], request: async () => ({ path: "/api/invitations" }) },
  "invitations.create": { relations: ["none"], request: async () => ({ path: "/api/invitations", body: { email: `${fx.unique("invited")}@a.example` } }) },
  "invitations.revoke": {
    object: "invitation",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/invitations/${relation === "own" ? await fx.freshInvitation() : fx.foreign.invitationId}` }),
  },
  "keys.list": { relations: ["none"], request: async () => ({ path: "/api/keys" }) },
  "keys.create": { relations: ["none"], request: async () => ({ path: "/api/keys", body: { name: fx.unique("key") } }) },
  "keys.revoke": {
    object: "key",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/keys/${relation === "own" ? await fx.freshKey() : fx.foreign.keyId}` }),
  },
  "models.list": { relations: ["none"], request: async () => ({ path: "/api/models" }) },
  "agents.list": { relations: ["none"], request: async () => ({ path: "/api/agents" }) },
  "agents.create": { relations: ["none"], request: async () => ({ path: "/api/agents", body: { name: fx.unique("Made"), role: "Helper" } }) },
  "agents.get": { object: "agent", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}` }) },
  "agents.update": {
    object: "agent",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}`, body: { role: "Analyst" } }),
  },
  "agents.delete": {
    object: "agent",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? await fx.freshAgent() : fx.foreign.agent}` }),
  },
  "sessions.list": {
    object: "session",
    relations: ["mine", "all"],
    request: async (caller, relation) => {
      // Sessions of one's own and of a colleague exist before the list is asked for.
      await ownChat(caller);
      await fx.chatAs(fx.people.member);
      return { path: `/api/agents/ada/sessions${relation === "all" ? "?owner=all" : ""}` };
    },
    verify: verifyList,
  },
  "sessions.search": {
    object: "session",
    relations: ["mine", "all"],
    request: async (_caller, relation) => ({ path: `/api/search?q=hello${relation === "all" ? "&owner=all" : ""}` }),
    verify: async (caller, relation, response) => {
      const { results } = (await response.json()) as { results: { owner: { id: string | null } }[] };
      const self = caller.person?.userId ?? caller.key?.id;
      if (relation === "mine") expect(results.every((result) => result.owner.id === self)).toBe(true);
    },
  },
  "sessions.get": { object: "session", relations: SESSION_RELATIONS, request: async (caller, relation) => ({ path: sessionPath(await sessionFor(caller, relation)) }) },
  "sessions.export": {
    object: "session",
    relations: SESSION_RELATIONS,
    request: async (caller, relation) => ({ path: `${sessionPath(await sessionFor(caller, relation))}/export?format=json` }),
  },
  "sessions.attachment": {
    object: "session",
    relations: SESSION_RELATIONS,
    request: async (caller, relation) => ({ path: `${sessionPath(await sessionFor(caller, relation))}/attachments/notes` }),
  },
  "sessions.rename": {
    object: "session",
    relations: SESSION_RELATIONS,
    request: async (caller, relation) => ({ path: sessionPath(await sessionFor(caller, relation)), body: { title: "Renamed" } }),
  },
  "sessions.delete": {
    object: "session",
    relations: SESSION_RELATIONS,
    request: async (caller, relation) => ({ path: sessionPath(await sessionFor(caller, relation, true)) }),
  },
  "chat.send": {
    object: "session",
    relations: ["new", "own", "other", "unowned"],
    request: async (caller, relation) => ({
      path: "/api/agents/ada/messages",
      body: { message: "Hello", ...(relation === "new" ? {} : { sessionKey: await sessionFor(caller, relation) }) },
    }),
  },
  "runs.events": {
    object: "run",
    relations: SESSION_RELATIONS,
    request: async (caller, relation) => ({ path: `/api/runs/${await runFor(caller, relation)}/events?after=0` }),
  },
  "runs.abort": { object: "run", relations: SESSION_RELATIONS, request: async (caller, relation) => ({ path: `/api/runs/${await runFor(caller, relation)}/abort` }) },
  "approvals.list": { relations: ["none"], request: async () => ({ path: "/api/approvals?status=all" }) },
  "approvals.count": { relations: ["none"], request: async () => ({ path: "/api/approvals/count" }) },
  // An open stream: its first message is enough.
  "approvals.events": { relations: ["none"], request: async () => ({ path: "/api/approvals/events" }), verify: async (_caller, _relation, response) => void (await response.body?.cancel()) },
  "approvals.get": { object: "approval", relations: SESSION_RELATIONS, request: async (caller, relation) => ({ path: `/api/approvals/${await approvalFor(caller, relation)}` }) },
  "approvals.approve": { object: "approval", relations: SESSION_RELATIONS, request: async (caller, relation) => ({ path: `/api/approvals/${await approvalFor(caller, relation, true)}/approve`, body: {} }) },
  "approvals.deny": { object: "approval", relations: SESSION_RELATIONS, request: async (caller, relation) => ({ path: `/api/approvals/${await approvalFor(caller, relation, true)}/deny`, body: { reason: "matrix" } }) },
  "usage.read": { relations: ["none"], request: async () => ({ path: "/api/usage" }) },
  "budget.read": { relations: ["none"], request: async () => ({ path: "/api/budget" }) },
  "budget.update": { relations: ["none"], request: async () => ({ path: "/api/budget", body: { monthlyTokens: null } }) },
  "stream.stats": { relations: ["none"], request: async () => ({ path: "/api/stream/stats" }) },
  "audit.list": { relations: ["none"], request: async () => ({ path: "/api/audit" }) },
  "composio.overview": { relations: ["none"], request: async () => ({ path: "/api/integrations/composio" }) },
  "composio.toolkits": { relations: ["none"], request: async () => ({ path: "/api/integrations/composio/toolkits" }) },
  "composio.toolkit-tools": { relations: ["none"], request: async () => ({ path: "/api/integrations/composio/toolkits/github/tools" }) },
  "composio.connect": { relations: ["none"], request: async () => ({ path: "/api/integrations/composio/connections", body: { toolkit: "gmail" } }) },
  "composio.disconnect": {
    object: "composio-connection",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/integrations/composio/connections/${relation === "own" ? await fx.freshComposioConnection() : fx.foreign.composioConnectionId}` }),
  },
  "composio.agent-tools": { object: "agent", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/composio-tools` }) },
  "composio.update-agent-tools": {
    object: "agent",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/composio-tools`, body: { toolkits: [{ toolkit: "github", mode: "allow" }] } }),
  },
  "mcp.list": { relations: ["none"], request: async () => ({ path: "/api/integrations/mcp/servers" }) },
  "mcp.create": {
    relations: ["none"],
    request: async () => ({ path: "/api/integrations/mcp/servers", body: { name: "More tools", namespace: fx.unique("more").replace("-", "_"), url: "https://tools.example/mcp" } }),
  },
  "mcp.get": { object: "mcp-server", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: mcpServerPath(await mcpServerFor(relation)) }) },
  "mcp.update": {
    object: "mcp-server",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: mcpServerPath(await mcpServerFor(relation)), body: { name: "Tools" } }),
  },
  "mcp.delete": { object: "mcp-server", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: mcpServerPath(await mcpServerFor(relation, true)) }) },
  "mcp.refresh": { object: "mcp-server", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `${mcpServerPath(await mcpServerFor(relation))}/refresh` }) },
  "mcp.oauth-start": {
    object: "mcp-server",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `${mcpServerPath(await mcpServerFor(relation))}/oauth/start` }),
  },
  // Always a redirect back to the web app; an unknown state carries the error there.
  "mcp.oauth-callback": { relations: ["none"], request: async () => ({ path: "/oauth/mcp/callback?code=c&state=unknown" }) },
  "agents.tools": { object: "agent", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/tools` }) },
  "agents.update-tools": {
    object: "agent",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/tools`, body: { grants: [] } }),
  },
  "schedules.list": { object: "agent", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `${agentPath(relation)}/schedules` }) },
  "schedules.create": {
    object: "agent",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `${agentPath(relation)}/schedules`, body: { name: fx.unique("daily"), kind: "cron", cron: "0 9 * * *", timezone: "Europe/Berlin", message: "Report", sessionMode: "new" } }),
  },
  "schedules.get": { object: "schedule", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: await schedulePath(relation) }) },
  "schedules.update": { object: "schedule", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: await schedulePath(relation), body: { enabled: true } }) },
  "schedules.delete": { object: "schedule", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: await schedulePath(relation, true) }) },
  "schedules.run": { object: "schedule", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `${await schedulePath(relation, true)}/run` }) },
  "schedules.firings": { object: "schedule", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `${await schedulePath(relation)}/firings` }) },
  "schedules.agent-firings": { object: "agent", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `${agentPath(relation)}/schedule-firings` }) },
  "heartbeat.get": { object: "agent", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/heartbeat` }) },
  "heartbeat.update": {
    object: "agent",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/heartbeat`, body: { everyMinutes: 60 } }),
  },
  "heartbeat.run": { object: "agent", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/heartbeat/run` }) },
  "agents.tool-modes": { object: "agent", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/tool-modes` }) },
  "agents.update-tool-modes": {
    object: "agent",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `/api/agents/${relation === "own" ? "ada" : fx.foreign.agent}/tool-modes`, body: { modes: { read_file: "allow" } } }),
  },
  "secrets.list": {
    relations: ["none"],
    request: async () => ({ path: "/api/secrets" }),
    verify: async (_caller, _relation, response) => {
      const body = (await response.json()) as { secrets: Record<string, unknown>[] };
      for (const secret of body.secrets) expect(Object.keys(secret).sort()).toEqual(["createdAt", "hint", "kind", "name", "updatedAt", "updatedBy"]);
    },
  },
  "webhooks.list": {
    relations: ["none"],
    request: async () => ({ path: "/api/webhooks" }),
    verify: async (_caller, _relation, response) => expect(await response.text()).not.toContain("whsec_"),
  },
  "webhooks.create": { relations: ["none"], request: async () => ({ path: "/api/webhooks", body: { url: `https://hooks.example/${fx.unique("new")}` } }) },
  "webhooks.get": { object: "webhook", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: await webhookPath(relation) }) },
  "webhooks.update": { object: "webhook", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: await webhookPath(relation), body: { description: "Matrix" } }) },
  "webhooks.delete": { object: "webhook", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: await webhookPath(relation, true) }) },
  "webhooks.rotate-secret": { object: "webhook", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `${await webhookPath(relation)}/rotate-secret`, body: {} }) },
  "webhooks.test": { object: "webhook", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `${await webhookPath(relation)}/test` }) },
  "webhooks.deliveries": { object: "webhook", relations: ["own", "foreign-org"], request: async (_caller, relation) => ({ path: `${await webhookPath(relation)}/deliveries` }) },
  "webhooks.redeliver": {
    object: "webhook",
    relations: ["own", "foreign-org"],
    request: async (_caller, relation) => ({ path: `${await webhookPath(relation)}/deliveries/${relation === "own" ? fx.webhookDelivery : fx.foreign.webhookDeliveryId}/redeliver` }),
  },
  "model-keys.list": {
    relations: ["none"],
    request: async () => ({ path: "/api/integrations/model-keys" }),
    // Whoever may see the keys sees whether they are set and their hint, never a value.
    verify: async (_caller, _relation, response) => expect(await response.text()).not.toContain(MATRIX_MODEL_KEY),
  },
  "model-keys.set": { relations: ["none"], request: async () => ({ path: "/api/integrations/model-keys/anthropic", body: { apiKey: MATRIX_MODEL_KEY } }) },
  "model-keys.delete": {
    relations: ["none"],
    // Each caller finds a key to remove: the owner sets one first.
    request: async () => {
      await putModelKeyAsOwner();
      return { path: "/api/integrations/model-keys/anthropic" };
    },
  },
};

const MATRIX_MODEL_KEY = "sk-matrix-model-key-0000";
async function putModelKeyAsOwner(): Promise<void> {
  const response = await fx.platform.app.request(`${TEST_ORIGIN}/api/integrations/model-keys/anthropic`, {
    method: "PUT",
    headers: { authorization: `Bearer ${fx.people.owner.token}`, "x-tenant-id": fx.people.owner.tenantId, "content-type": "application/json" },
    body: JSON.stringify({ apiKey: MATRIX_MODEL_KEY }),
  });
  expect(response.status).toBe(200);
}

describe("access matrix", () => {
  it("has a case for every documented operation, and no case for an operation that is gone", () => {
    const documented = operations.map((operation) => operation.id).sort();
    expect(documented.filter((id) => !(id in CASES))).toEqual([]);
    expect(Object.keys(CASES).filter((id) => !documented.includes(id))).toEqual([]);
    expect(operations.filter((operation) => !operation.access || !Number.isInteger(operation.successStatus))).toEqual([]);
  });

  for (const id of Object.keys(CASES)) {
    it(`${id}: every caller gets what the permission table says`, async () => {
      const operation = operations.find((each) => each.id === id);
      expect(operation, `${id} is not in the OpenAPI document`).toBeDefined();
      const testCase = CASES[id]!;
      const mismatches: unknown[] = [];
      for (const kind of CALLER_KINDS) {
        const caller = fx.callerOf(kind, operation!.access.apiKeyScope);
        for (const relation of testCase.relations) {
          const spec = await testCase.request(caller, relation);
          const token = spec.token ?? caller.token;
          const response = await fx.platform.app.request(`${TEST_ORIGIN}${spec.path}`, {
            method: operation!.method,
            headers: {
              ...(token ? { authorization: `Bearer ${token}` } : {}),
              ...(spec.body === undefined ? {} : { "content-type": "application/json" }),
              ...caller.headers,
              ...spec.headers,
            },
            body: spec.body === undefined ? undefined : JSON.stringify(spec.body),
          });
          const want = expected(operation!, testCase.object, caller, relation);
          const got: { status: number; code?: string } = { status: response.status };
          if (response.status >= 400) got.code = ((await response.json()) as { error?: { code?: string } }).error?.code;
          else if (testCase.verify && response.status === want.status) await testCase.verify(caller, relation, response);
          else await response.arrayBuffer();
          const comparable = want.code === undefined ? { status: got.status } : got;
          if (JSON.stringify(comparable) !== JSON.stringify(want)) mismatches.push({ caller: kind, relation, path: spec.path, expected: want, got });
        }
      }
      expect(mismatches).toEqual([]);
    });
  }
});
