/**
 * Who may call what: one table for every operation of the platform (decision 010). Routes are
 * registered from it (`operationRoutes` in `./operation-route.ts`), the OpenAPI document and
 * `/api/docs` show it, and docs/platform-api.md's access tables are generated from it.
 */
import type { Scope } from "../app-env";
import type { Role } from "../db/schema";

export type HttpMethod = "get" | "post" | "put" | "patch" | "delete";

/**
 * - `public`: no credentials needed.
 * - `session`: the GoTrue surface about one's own sign-in; an access token only (an API key is not one: 401).
 * - `account`: any signed-in user, no organisation needed; `X-Tenant-ID` is ignored. API keys get 403.
 * - `operator`: the installation's operator (its first account) only; others 403. API keys get 403.
 * - `tenant`: a member of the organisation (`X-Tenant-ID`, else the oldest membership) or an API key of it.
 */
export type AccessLevel = "public" | "session" | "account" | "operator" | "tenant";

/** What an operation acts on, when whose it is matters. */
export type OwnedObject = "session" | "run" | "member";

export interface AccessRule {
  method: HttpMethod;
  /** As in the OpenAPI document: `/api/agents/{slug}`; a query after `?` tells operations on one path apart. */
  path: string;
  level: AccessLevel;
  /** Roles that may call it (`tenant` level); empty for the other levels. */
  roles: readonly Role[];
  /** The scope an API key needs; null when keys are refused (403). */
  apiKey: Scope | null;
  /**
   * Everyone in `roles` may act on their own object; only `others` may act on someone else's.
   * Callers who may not even see the other's object (see `VISIBLE_TO`) get 404, as if it did not exist.
   */
  ownership?: { object: OwnedObject; others: readonly Role[] };
  /** A condition beyond the role that the handler checks; shown in the docs. */
  note?: string;
  /**
   * Allowed while the operator has suspended the organisation (taking the data out, deleting
   * it, leaving); every other tenant operation answers 403 `tenant_suspended` then.
   */
  whileSuspended?: true;
}

export const ROLES = ["owner", "admin", "member"] as const satisfies readonly Role[];
const EVERYONE = ROLES;
const ADMINS = ["owner", "admin"] as const satisfies readonly Role[];
const OWNERS = ["owner"] as const satisfies readonly Role[];

/**
 * Whose others' objects a role may see. A member who asks for a colleague's session gets 404
 * (a colleague's chat is never revealed); an admin, who may list it, gets 403 when the operation
 * is not theirs to do.
 */
export const VISIBLE_TO: Record<OwnedObject, readonly Role[]> = { session: ADMINS, run: ADMINS, member: EVERYONE };

/**
 * Sessions without an owner (started through the gateway's hooks or `/v1/chat/completions`, or
 * before ownership was recorded): only these roles see, read, rename, delete or chat in them.
 */
export const UNOWNED_SESSIONS: readonly Role[] = ADMINS;

const publicRule = (method: HttpMethod, path: string) => ({ method, path, level: "public", roles: [], apiKey: null }) as const;
const sessionRule = (method: HttpMethod, path: string) => ({ method, path, level: "session", roles: [], apiKey: null }) as const;
const accountRule = (method: HttpMethod, path: string) => ({ method, path, level: "account", roles: [], apiKey: null }) as const;
const operatorRule = (method: HttpMethod, path: string) => ({ method, path, level: "operator", roles: [], apiKey: null }) as const;

/** Every operation, by id. A route that is not here cannot be registered (and the tests walk them all). */
export const PERMISSIONS = {
  "auth.signup": publicRule("post", "/auth/v1/signup"),
  "auth.sign-in": publicRule("post", "/auth/v1/token?grant_type=password"),
  "auth.refresh": publicRule("post", "/auth/v1/token?grant_type=refresh_token"),
  "auth.user": sessionRule("get", "/auth/v1/user"),
  "auth.update-user": { ...sessionRule("put", "/auth/v1/user"), note: "a session older than a day sends the `nonce` from /reauthenticate to change the password" },
  "auth.reauthenticate": sessionRule("get", "/auth/v1/reauthenticate"),
  "auth.sign-out": sessionRule("post", "/auth/v1/logout"),
  "auth.verify": publicRule("post", "/auth/v1/verify"),
  "auth.recover": publicRule("post", "/auth/v1/recover"),
  "auth.resend": publicRule("post", "/auth/v1/resend"),
  "auth.jwks": publicRule("get", "/auth/v1/.well-known/jwks.json"),

  "service.health": publicRule("get", "/api/health"),
  "service.stream-probe": publicRule("get", "/api/health/stream-probe"),
  "service.config": publicRule("get", "/api/config"),
  "service.openapi": publicRule("get", "/api/openapi.json"),
  "service.docs": publicRule("get", "/api/docs"),
  "service.docs-style": publicRule("get", "/api/docs.css"),

  "account.me": accountRule("get", "/api/me"),
  "tenants.list": accountRule("get", "/api/tenants"),
  "tenants.create": accountRule("post", "/api/tenants"),
  "invitations.accept": { ...accountRule("post", "/api/invitations/accept"), note: "the signed-in, confirmed email must be the invited one" },
  "invitations.preview": publicRule("post", "/api/invitations/preview"),

  "operator.tenants": operatorRule("get", "/api/operator/tenants"),
  "operator.suspend": { method: "patch", path: "/api/operator/tenants/{id}", level: "operator", roles: [], apiKey: null },
  "operator.limits": operatorRule("get", "/api/operator/tenants/{id}/limits"),
  "operator.update-limits": operatorRule("patch", "/api/operator/tenants/{id}/limits"),

  "tenant.rename": { method: "patch", path: "/api/tenant", level: "tenant", roles: ADMINS, apiKey: null },
  "tenant.export": { method: "get", path: "/api/tenant/export", level: "tenant", roles: ADMINS, apiKey: null, whileSuspended: true },
  "tenant.delete": { method: "delete", path: "/api/tenant", level: "tenant", roles: OWNERS, apiKey: null, whileSuspended: true },

  "members.list": { method: "get", path: "/api/members", level: "tenant", roles: EVERYONE, apiKey: null },
  "members.update": {
    method: "patch",
    path: "/api/members/{userId}",
    level: "tenant",
    roles: ADMINS,
    apiKey: null,
    note: "only owners grant or take away `owner`; the last owner cannot be demoted",
  },
  "members.remove": {
    method: "delete",
    path: "/api/members/{userId}",
    level: "tenant",
    roles: EVERYONE,
    apiKey: null,
    ownership: { object: "member", others: ADMINS },
    note: "your own id: leave; only owners remove an owner; the last owner cannot leave",
    whileSuspended: true,
  },

  "invitations.list": { method: "get", path: "/api/invitations", level: "tenant", roles: ADMINS, apiKey: null },
  "invitations.create": { method: "post", path: "/api/invitations", level: "tenant", roles: ADMINS, apiKey: null, note: "only owners invite owners" },
  "invitations.revoke": { method: "delete", path: "/api/invitations/{id}", level: "tenant", roles: ADMINS, apiKey: null },

  "keys.list": { method: "get", path: "/api/keys", level: "tenant", roles: ADMINS, apiKey: null },
  "keys.create": { method: "post", path: "/api/keys", level: "tenant", roles: ADMINS, apiKey: null },
  "keys.revoke": { method: "delete", path: "/api/keys/{id}", level: "tenant", roles: ADMINS, apiKey: null },

  "agents.list": { method: "get", path: "/api/agents", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "agents.create": { method: "post", path: "/api/agents", level: "tenant", roles: ADMINS, apiKey: "agents:write" },
  "agents.get": { method: "get", path: "/api/agents/{slug}", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "agents.update": { method: "patch", path: "/api/agents/{slug}", level: "tenant", roles: ADMINS, apiKey: "agents:write" },
  "agents.delete": { method: "delete", path: "/api/agents/{slug}", level: "tenant", roles: ADMINS, apiKey: "agents:write", note: "deletes its chats too" },
  "models.list": { method: "get", path: "/api/models", level: "tenant", roles: EVERYONE, apiKey: "agents:read", note: "the models an agent may name" },

  "sessions.list": {
    method: "get",
    path: "/api/agents/{slug}/sessions",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "sessions:read",
    ownership: { object: "session", others: ADMINS },
    note: "`?owner=all` lists everyone's (audited)",
  },
  "sessions.get": {
    method: "get",
    path: "/api/agents/{slug}/sessions/{key}",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "sessions:read",
    ownership: { object: "session", others: ADMINS },
    note: "reading another's is audited",
  },
  "sessions.export": {
    method: "get",
    path: "/api/agents/{slug}/sessions/{key}/export",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "sessions:read",
    ownership: { object: "session", others: ADMINS },
    note: "exporting another's is audited",
  },
  "sessions.attachment": {
    method: "get",
    path: "/api/agents/{slug}/sessions/{key}/attachments/{id}",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "sessions:read",
    ownership: { object: "session", others: ADMINS },
    note: "a file sent with one of its messages; reading another's is audited",
  },
  "sessions.rename": {
    method: "patch",
    path: "/api/agents/{slug}/sessions/{key}",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "sessions:write",
    ownership: { object: "session", others: [] },
  },
  "sessions.delete": {
    method: "delete",
    path: "/api/agents/{slug}/sessions/{key}",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "sessions:write",
    ownership: { object: "session", others: ADMINS },
  },

  "sessions.search": {
    method: "get",
    path: "/api/search",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "sessions:read",
    ownership: { object: "session", others: ADMINS },
    note: "searches your own chats; `?owner=all` everyone's (audited)",
  },

  "chat.send": {
    method: "post",
    path: "/api/agents/{slug}/messages",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "chat",
    ownership: { object: "session", others: [] },
    note: "without `sessionKey` a new session of yours starts",
  },
  "runs.events": {
    method: "get",
    path: "/api/runs/{runId}/events",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "chat",
    ownership: { object: "run", others: ADMINS },
    note: "following another's run is audited",
  },
  "runs.abort": {
    method: "post",
    path: "/api/runs/{runId}/abort",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "chat",
    ownership: { object: "run", others: [] },
  },

  /*
   * Tool approvals (decision 038): whoever may chat in a session decides its paused calls, the
   * session's owner (a member or an API key); owners and admins decide everyone's (the same roles
   * that may act on others' sessions and on sessions nobody owns). A member never learns of a
   * colleague's approval (404), as of a colleague's chat.
   */
  "approvals.list": {
    method: "get",
    path: "/api/approvals",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "chat",
    ownership: { object: "session", others: ADMINS },
    note: "lists the approvals of your own sessions, owners and admins everyone's; `?status=pending|decided|all`",
  },
  "approvals.count": { method: "get", path: "/api/approvals/count", level: "tenant", roles: EVERYONE, apiKey: "chat", ownership: { object: "session", others: ADMINS }, note: "counts those you may decide" },
  "approvals.events": {
    method: "get",
    path: "/api/approvals/events",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "chat",
    ownership: { object: "session", others: ADMINS },
    note: "an open stream: counts against the open-stream limit",
  },
  "approvals.get": { method: "get", path: "/api/approvals/{id}", level: "tenant", roles: EVERYONE, apiKey: "chat", ownership: { object: "session", others: ADMINS } },
  "approvals.approve": {
    method: "post",
    path: "/api/approvals/{id}/approve",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "chat",
    ownership: { object: "session", others: ADMINS },
    note: "decided once: a second decision is 409 `approval_already_decided`; audited",
  },
  "approvals.deny": {
    method: "post",
    path: "/api/approvals/{id}/deny",
    level: "tenant",
    roles: EVERYONE,
    apiKey: "chat",
    ownership: { object: "session", others: ADMINS },
    note: "decided once: a second decision is 409 `approval_already_decided`; audited",
  },

  "usage.read": { method: "get", path: "/api/usage", level: "tenant", roles: EVERYONE, apiKey: "usage:read" },
  "budget.read": { method: "get", path: "/api/budget", level: "tenant", roles: EVERYONE, apiKey: "usage:read" },
  "budget.update": { method: "put", path: "/api/budget", level: "tenant", roles: ADMINS, apiKey: null },
  "limits.read": { method: "get", path: "/api/limits", level: "tenant", roles: EVERYONE, apiKey: "usage:read" },
  "stream.stats": { method: "get", path: "/api/stream/stats", level: "tenant", roles: EVERYONE, apiKey: "usage:read" },
  "audit.list": { method: "get", path: "/api/audit", level: "tenant", roles: ADMINS, apiKey: null },

  "composio.overview": { method: "get", path: "/api/integrations/composio", level: "tenant", roles: EVERYONE, apiKey: null, note: "`{ configured: false }` when the installation has no COMPOSIO_API_KEY" },
  "composio.toolkits": { method: "get", path: "/api/integrations/composio/toolkits", level: "tenant", roles: EVERYONE, apiKey: null },
  "composio.toolkit-tools": { method: "get", path: "/api/integrations/composio/toolkits/{toolkit}/tools", level: "tenant", roles: EVERYONE, apiKey: null },
  "composio.connect": { method: "post", path: "/api/integrations/composio/connections", level: "tenant", roles: ADMINS, apiKey: null, note: "answers Composio's hosted sign-in page to send the browser to" },
  "composio.disconnect": { method: "delete", path: "/api/integrations/composio/connections/{id}", level: "tenant", roles: ADMINS, apiKey: null },
  "composio.agent-tools": { method: "get", path: "/api/agents/{slug}/composio-tools", level: "tenant", roles: EVERYONE, apiKey: null },
  "composio.update-agent-tools": { method: "put", path: "/api/agents/{slug}/composio-tools", level: "tenant", roles: ADMINS, apiKey: null },
  "mcp.list": { method: "get", path: "/api/integrations/mcp/servers", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "mcp.create": { method: "post", path: "/api/integrations/mcp/servers", level: "tenant", roles: ADMINS, apiKey: null, note: "the URL must pass the SSRF guard" },
  "mcp.get": { method: "get", path: "/api/integrations/mcp/servers/{id}", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "mcp.update": { method: "patch", path: "/api/integrations/mcp/servers/{id}", level: "tenant", roles: ADMINS, apiKey: null },
  "mcp.delete": { method: "delete", path: "/api/integrations/mcp/servers/{id}", level: "tenant", roles: ADMINS, apiKey: null, note: "its grants and secrets go with it" },
  "mcp.refresh": { method: "post", path: "/api/integrations/mcp/servers/{id}/refresh", level: "tenant", roles: ADMINS, apiKey: null },
  "mcp.oauth-start": { method: "post", path: "/api/integrations/mcp/servers/{id}/oauth/start", level: "tenant", roles: ADMINS, apiKey: null },
  "mcp.oauth-callback": { ...publicRule("get", "/oauth/mcp/callback"), note: "the browser's return from the authorization server; the state names the organisation, server and user" },
  "agents.tools": { method: "get", path: "/api/agents/{slug}/tools", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "agents.update-tools": { method: "put", path: "/api/agents/{slug}/tools", level: "tenant", roles: ADMINS, apiKey: "agents:write", note: "replaces the agent's web and MCP tool grants" },
  "heartbeat.get": { method: "get", path: "/api/agents/{slug}/heartbeat", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "heartbeat.update": { method: "put", path: "/api/agents/{slug}/heartbeat", level: "tenant", roles: ADMINS, apiKey: null, note: "whoever turns it on is whom its runs are for" },
  "heartbeat.run": { method: "post", path: "/api/agents/{slug}/heartbeat/run", level: "tenant", roles: ADMINS, apiKey: null, note: "one heartbeat now, on your behalf" },
  "agents.tool-modes": { method: "get", path: "/api/agents/{slug}/tool-modes", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "agents.update-tool-modes": {
    method: "put",
    path: "/api/agents/{slug}/tool-modes",
    level: "tenant",
    roles: ADMINS,
    apiKey: "agents:write",
    note: "allow, ask or deny per workspace and web tool",
  },
  "secrets.list": { method: "get", path: "/api/secrets", level: "tenant", roles: ADMINS, apiKey: null, note: "names, kinds and hints: never a value" },

  "schedules.list": { method: "get", path: "/api/agents/{slug}/schedules", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "schedules.create": { method: "post", path: "/api/agents/{slug}/schedules", level: "tenant", roles: ADMINS, apiKey: null, note: "its runs go on behalf of the member who creates it" },
  "schedules.get": { method: "get", path: "/api/agents/{slug}/schedules/{id}", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "schedules.update": { method: "patch", path: "/api/agents/{slug}/schedules/{id}", level: "tenant", roles: ADMINS, apiKey: null, note: "`enabled` turns it on or off" },
  "schedules.delete": { method: "delete", path: "/api/agents/{slug}/schedules/{id}", level: "tenant", roles: ADMINS, apiKey: null, note: "its firing history goes with it" },
  "schedules.run": { method: "post", path: "/api/agents/{slug}/schedules/{id}/run", level: "tenant", roles: ADMINS, apiKey: null, note: "fires it now, also when it is turned off" },
  "schedules.firings": { method: "get", path: "/api/agents/{slug}/schedules/{id}/firings", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "schedules.agent-firings": { method: "get", path: "/api/agents/{slug}/schedule-firings", level: "tenant", roles: EVERYONE, apiKey: "agents:read" },
  "webhooks.list": { method: "get", path: "/api/webhooks", level: "tenant", roles: ADMINS, apiKey: null, note: "signing secrets only as hints" },
  "webhooks.create": { method: "post", path: "/api/webhooks", level: "tenant", roles: ADMINS, apiKey: null, note: "answers the signing secret, this once; the URL must pass the SSRF guard" },
  "webhooks.get": { method: "get", path: "/api/webhooks/{id}", level: "tenant", roles: ADMINS, apiKey: null },
  "webhooks.update": { method: "patch", path: "/api/webhooks/{id}", level: "tenant", roles: ADMINS, apiKey: null, note: "`enabled: true` turns it on again and forgets its failures" },
  "webhooks.delete": { method: "delete", path: "/api/webhooks/{id}", level: "tenant", roles: ADMINS, apiKey: null, note: "its deliveries and secrets go with it" },
  "webhooks.rotate-secret": { method: "post", path: "/api/webhooks/{id}/rotate-secret", level: "tenant", roles: ADMINS, apiKey: null, note: "answers the new secret, this once" },
  "webhooks.test": { method: "post", path: "/api/webhooks/{id}/test", level: "tenant", roles: ADMINS, apiKey: null },
  "webhooks.deliveries": { method: "get", path: "/api/webhooks/{id}/deliveries", level: "tenant", roles: ADMINS, apiKey: null },
  "webhooks.redeliver": { method: "post", path: "/api/webhooks/{id}/deliveries/{deliveryId}/redeliver", level: "tenant", roles: ADMINS, apiKey: null },

  "model-keys.list": { method: "get", path: "/api/integrations/model-keys", level: "tenant", roles: EVERYONE, apiKey: null, note: "which providers have a key (a hint, never the key) and the operator's policy" },
  "model-keys.set": { method: "put", path: "/api/integrations/model-keys/{provider}", level: "tenant", roles: ADMINS, apiKey: null, note: "`anthropic` or `openai-compatible`; the key is never answered again" },
  "model-keys.delete": { method: "delete", path: "/api/integrations/model-keys/{provider}", level: "tenant", roles: ADMINS, apiKey: null },
} as const satisfies Record<string, AccessRule>;

export type OperationId = keyof typeof PERMISSIONS;
export const OPERATION_IDS = Object.keys(PERMISSIONS) as OperationId[];

/** The rule of one operation, widened to the general shape. */
export function ruleOf(id: OperationId): AccessRule {
  return PERMISSIONS[id];
}

/** Whether `role` may act on someone else's object in this operation (false for API keys, which have no role). */
export function mayActOnOthers(rule: AccessRule, role: Role | null): boolean {
  return role !== null && (rule.ownership?.others ?? []).includes(role);
}

/** Whether `role` may see that another's object exists (so a refusal is 403 rather than 404). */
export function maySeeOthers(rule: AccessRule, role: Role | null): boolean {
  return role !== null && rule.ownership !== undefined && VISIBLE_TO[rule.ownership.object].includes(role);
}

/** "owner/admin", "owner", "everyone": how the docs name a set of roles. */
export function describeRoles(roles: readonly Role[]): string {
  if (ROLES.every((role) => roles.includes(role))) return "everyone";
  return ROLES.filter((role) => roles.includes(role)).join("/");
}
