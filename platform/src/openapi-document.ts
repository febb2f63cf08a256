import {
  OperatorLimitsView,
  OrganisationLimits,
  OrganisationLimitsPatch,
  OrganisationLimitsView,
  OwnedSessionHistory,
  OwnedSessionSummary,
  SessionOwnerFilter,
  SearchQuery,
  SearchResponse,
  Agent,
  AgentInput,
  AgentUpdate,
  ModelCatalogue,
  ApiErrorBody,
  ModelInfo,
  RunInfo,
  SendMessageInput,
  SecretList,
  SessionHistory,
  SessionUpdate,
  UsageDisk,
  AgentToolsUpdate,
  AgentToolsView,
  McpOAuthStart,
  McpServerEnvelope,
  McpServerInput,
  McpServerList,
  McpServerUpdate,
  ModelKeyInput,
  ModelKeyResponse,
  ModelKeysResponse,
} from "@workforce/protocol";
import {
  WebhookDeliveryEnvelope,
  WebhookDeliveryPage,
  WebhookDeliveryStatus,
  WebhookEndpointEnvelope,
  WebhookEndpointInput,
  WebhookEndpointList,
  WebhookEndpointUpdate,
  WebhookEndpointWithSecret,
  WebhookRotateInput,
} from "@workforce/protocol";
import {
  AgentComposioTools,
  ComposioConnectInput,
  ComposioConnectResult,
  ComposioOverview,
  ComposioToolkitView,
  ComposioToolView,
} from "@workforce/protocol";
import { AgentFiringList, FiringEnvelope, FiringList, FiringListQuery, ScheduleEnvelope, ScheduleInput, ScheduleList, ScheduleUpdate } from "@workforce/protocol";
import { HeartbeatRunStarted, HeartbeatSettingsUpdate, HeartbeatView } from "@workforce/protocol";
import { AgentToolModes, AgentToolModesUpdate, ApprovalCount, ApprovalDecisionBody, ApprovalEnvelope, ApprovalList, ApprovalListStatus } from "@workforce/protocol";
import { AuditPage, BudgetView, ErasureReceipt } from "@workforce/protocol";
import { z } from "zod";
import { accessExtension, describeAccess } from "./auth/access-docs";
import { OPERATION_IDS, ruleOf, type AccessRule, type OperationId } from "./auth/permissions";
import { KeyInput } from "./routes/api-keys";
import { BudgetInput } from "./routes/budget";
import { EraseInput } from "./routes/tenant-data";
import { EmailBody, PasswordGrantBody, RefreshGrantBody, ResendBody, SignUpBody, UserUpdateBody, VerifyBody } from "./routes/auth";
import { AcceptInput, InvitationInput } from "./routes/invitations";
import { OperatorTenantsQuery, SuspensionInput } from "./routes/operator";
import { MemberUpdate, RoleSchema } from "./routes/members";
import { TenantInput } from "./routes/tenants";

interface OperationDescription {
  summary: string;
  tag: string;
  body?: z.ZodType;
  /** Query parameters the handler reads, with their schemas. */
  query?: Record<string, { schema: z.ZodType; description: string }>;
  response?: { status: number; schema?: z.ZodType; contentType?: string };
}

/** An operation as documented: its description plus its access rule, by id. */
export interface Operation extends OperationDescription, AccessRule {
  id: OperationId;
}

const TenantView = z.object({ id: z.string(), name: z.string(), role: RoleSchema, suspended: z.boolean().optional(), suspendedReason: z.string().nullable().optional() });
const GoTrueUser = z.object({ id: z.string(), email: z.string(), email_confirmed_at: z.string().nullable(), new_email: z.string().optional() }).loose();
const InvitationPreview = z.object({ organisation: z.string(), inviterEmail: z.string().nullable(), email: z.string(), role: RoleSchema, expiresAt: z.string() });
const OperatorTenant = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  members: z.number(),
  owners: z.array(z.string()),
  suspended: z.object({ at: z.string(), reason: z.string().nullable() }).nullable(),
  usage: z.object({ tokens: z.number(), runs: z.number(), monthlyTokens: z.number().nullable() }),
  limits: OrganisationLimits,
});
const Empty = z.object({});
const MemberView = z.object({ userId: z.string(), email: z.string(), role: RoleSchema, joinedAt: z.string() });
const InvitationView = z.object({ id: z.string(), email: z.string(), role: RoleSchema, invitedBy: z.string().nullable(), createdAt: z.string(), expiresAt: z.string() });
const ApiKeyView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
const Session = z.object({
  access_token: z.string(),
  token_type: z.literal("bearer"),
  expires_in: z.number(),
  expires_at: z.number(),
  refresh_token: z.string(),
  user: z.object({ id: z.string(), email: z.string() }).loose(),
});
const UsageCounts = z.object({ runs: z.number(), inputTokens: z.number(), outputTokens: z.number() });
/** `organisationKey`: the part of it that used the organisation's own model key (issue 14). */
const Usage = UsageCounts.extend({ organisationKey: UsageCounts });
const StreamCounts = { openStreams: z.number(), tenantOpenStreams: z.number(), streamsStarted: z.number(), eventsSent: z.number(), resumes: z.number() };
const StreamStats = z.object({
  ...StreamCounts,
  tenantsStreaming: z.number(),
  ttftMs: z.object({ median: z.number().nullable(), p95: z.number().nullable(), samples: z.number(), windowSeconds: z.number() }),
  instanceId: z.string(),
  instances: z.array(z.object({ id: z.string(), ...StreamCounts, startedAt: z.string(), heartbeatAt: z.string() })),
});
const Health = z.object({
  status: z.enum(["ok", "degraded"]),
  database: z.object({ ok: z.boolean(), error: z.string().optional() }),
  gateway: z.object({ ok: z.boolean(), url: z.string(), version: z.string().optional(), error: z.string().optional() }),
  dataDir: z.object({ ok: z.boolean(), path: z.string(), instanceId: z.string().nullable(), gatewayPath: z.string().optional(), error: z.string().optional() }),
});

const FIRING_PAGE_QUERY = {
  limit: { schema: FiringListQuery.shape.limit, description: "Firings per page (1-100, default 20)" },
  cursor: { schema: FiringListQuery.shape.cursor, description: "The previous page's nextCursor" },
};

/** Every operation, described once with the same zod schemas the handlers validate with; method, path and access come from the permission table. */
const DESCRIPTIONS: Record<OperationId, OperationDescription> = {
  "auth.signup": {
    tag: "auth",
    summary: "Sign up under the installation's sign-up policy (an organisation of your own, or with `data.invitation_token` the inviting one); while confirmation is required the answer is the user without a session",
    body: SignUpBody,
    response: { status: 200, schema: z.union([Session, GoTrueUser]) },
  },
  "auth.verify": {
    tag: "auth",
    summary: "Confirm an address, recover a password or confirm an email change: `{ type, token_hash }` from a mailed link, or `{ type, email, token }` with the 6-digit code; signs in",
    body: VerifyBody,
    response: { status: 200, schema: Session },
  },
  "auth.recover": { tag: "auth", summary: "Mail a password-reset link and code (the same answer whether or not the account exists)", body: EmailBody, response: { status: 200, schema: Empty } },
  "auth.resend": { tag: "auth", summary: "Mail the confirmation (signup) or email-change link again", body: ResendBody, response: { status: 200, schema: Empty } },
  "auth.update-user": { tag: "auth", summary: "Change the password (reauthenticated) or the email (confirmed at the new address)", body: UserUpdateBody, response: { status: 200, schema: GoTrueUser } },
  "auth.reauthenticate": { tag: "auth", summary: "Mail a code that lets an old session change its password", response: { status: 200, schema: Empty } },
  "auth.jwks": {
    tag: "auth",
    summary: "The public keys access tokens are signed with (ES256, by kid)",
    response: { status: 200, schema: z.object({ keys: z.array(z.object({ kid: z.string(), alg: z.literal("ES256") }).loose()) }) },
  },
  "auth.sign-in": { tag: "auth", summary: "Sign in with email and password", body: PasswordGrantBody, response: { status: 200, schema: Session } },
  "auth.refresh": { tag: "auth", summary: "Rotate a refresh token", body: RefreshGrantBody, response: { status: 200, schema: Session } },
  "auth.user": { tag: "auth", summary: "The signed-in user" },
  "auth.sign-out": { tag: "auth", summary: "Sign out (scope=global|local|others)", response: { status: 204 } },
  "service.health": { tag: "service", summary: "Liveness and readiness (503 when not ready)", response: { status: 200, schema: Health } },
  "service.stream-probe": {
    tag: "service",
    summary: "Two server-sent events a second apart: `workforce doctor` sees whether a proxy buffers event streams",
    response: { status: 200, contentType: "text/event-stream" },
  },
  "service.openapi": { tag: "service", summary: "This OpenAPI document", response: { status: 200, schema: z.object({ openapi: z.string() }).loose() } },
  "service.docs": { tag: "service", summary: "A readable page of this document", response: { status: 200, contentType: "text/html" } },
  "service.docs-style": { tag: "service", summary: "The docs page's stylesheet", response: { status: 200, contentType: "text/css" } },
  "service.config": {
    tag: "service",
    summary: "Where the web app's auth client points, and who may sign up",
    response: { status: 200, schema: z.object({ supabaseUrl: z.string(), supabaseAnonKey: z.string(), embeddedAuth: z.boolean(), signup: z.enum(["open", "invite", "domains", "closed"]), firstAccount: z.boolean() }) },
  },
  "account.me": {
    tag: "account",
    summary: "Me, my organisations, what I may do on this installation, and the model",
    response: {
      status: 200,
      schema: z.object({
        user: z.object({ id: z.string(), email: z.string(), emailConfirmed: z.boolean(), operator: z.boolean() }),
        tenants: z.array(TenantView),
        canCreateOrganisation: z.boolean(),
        model: ModelInfo,
      }),
    },
  },
  "tenants.list": { tag: "organisations", summary: "My organisations", response: { status: 200, schema: z.object({ tenants: z.array(TenantView) }) } },
  "tenants.create": { tag: "organisations", summary: "Create an organisation", body: TenantInput, response: { status: 201, schema: z.object({ tenant: TenantView }) } },
  "tenant.rename": { tag: "organisations", summary: "Rename the current organisation", body: TenantInput, response: { status: 200, schema: z.object({ tenant: TenantView }) } },
  "tenant.delete": { tag: "organisations", summary: "Delete the organisation and all its data (confirm with its name)", body: EraseInput, response: { status: 200, schema: z.object({ deleted: ErasureReceipt }) } },
  "tenant.export": { tag: "organisations", summary: "Export the organisation's data as one JSON document", response: { status: 200, schema: z.object({ format: z.literal("workforce-tenant-export"), version: z.literal(1) }).loose() } },
  "members.list": { tag: "organisations", summary: "Members of the current organisation", response: { status: 200, schema: z.object({ members: z.array(MemberView) }) } },
  "members.update": { tag: "organisations", summary: "Change a member's role", body: MemberUpdate, response: { status: 200, schema: z.object({ member: MemberView }) } },
  "members.remove": { tag: "organisations", summary: "Remove a member, or leave", response: { status: 204 } },
  "invitations.list": { tag: "organisations", summary: "Pending invitations", response: { status: 200, schema: z.object({ invitations: z.array(InvitationView) }) } },
  "invitations.create": {
    tag: "organisations",
    summary: "Invite by email with a role: the link goes to that address only (by SMTP, or the local outbox)",
    body: InvitationInput,
    response: { status: 201, schema: z.object({ invitation: InvitationView, delivery: z.enum(["email", "outbox"]) }) },
  },
  "invitations.preview": {
    tag: "organisations",
    summary: "What an invitation link is for (organisation, inviter, role), before signing in",
    body: AcceptInput,
    response: { status: 200, schema: z.object({ invitation: InvitationPreview }) },
  },
  "operator.tenants": {
    tag: "operator",
    summary: "Every organisation with this month's usage (?limit=&cursor=)",
    query: {
      limit: { schema: OperatorTenantsQuery.shape.limit, description: "Organisations per page (1-200, default 50)" },
      cursor: { schema: OperatorTenantsQuery.shape.cursor, description: "The previous page's nextCursor" },
    },
    response: { status: 200, schema: z.object({ tenants: z.array(OperatorTenant), nextCursor: z.string().nullable() }) },
  },
  "operator.suspend": {
    tag: "operator",
    summary: "Suspend an organisation (its requests answer 403 tenant_suspended) or lift the suspension",
    body: SuspensionInput,
    response: { status: 200, schema: z.object({ tenant: z.object({ id: z.string(), name: z.string(), suspended: z.object({ at: z.string(), reason: z.string().nullable() }).nullable() }) }) },
  },
  "operator.limits": {
    tag: "operator",
    summary: "An organisation's limits: in force, the operator's overrides, the installation's defaults, and whether the gateways hold them",
    response: { status: 200, schema: z.object({ limits: OperatorLimitsView }) },
  },
  "operator.update-limits": {
    tag: "operator",
    summary: "Set an organisation's plan limits (null: the default); audited, and pushed to the gateways",
    body: OrganisationLimitsPatch,
    response: { status: 200, schema: z.object({ limits: OperatorLimitsView }) },
  },
  "invitations.revoke": { tag: "organisations", summary: "Revoke an invitation", response: { status: 204 } },
  "invitations.accept": { tag: "organisations", summary: "Accept an invitation sent to my email", body: AcceptInput, response: { status: 200, schema: z.object({ tenant: TenantView }) } },
  "keys.list": { tag: "api keys", summary: "API keys", response: { status: 200, schema: z.object({ keys: z.array(ApiKeyView) }) } },
  "keys.create": { tag: "api keys", summary: "Create an API key; the secret is shown once", body: KeyInput, response: { status: 201, schema: z.object({ key: ApiKeyView, secret: z.string() }) } },
  "keys.revoke": { tag: "api keys", summary: "Revoke an API key", response: { status: 204 } },
  "models.list": { tag: "agents", summary: "The models an agent may name (the gateway's providers' lists and the offline model)", response: { status: 200, schema: ModelCatalogue } },
  "agents.list": { tag: "agents", summary: "List agents", response: { status: 200, schema: z.object({ agents: z.array(Agent) }) } },
  "agents.create": { tag: "agents", summary: "Create an agent", body: AgentInput, response: { status: 201, schema: z.object({ agent: Agent }) } },
  "agents.get": { tag: "agents", summary: "One agent", response: { status: 200, schema: z.object({ agent: Agent }) } },
  "agents.update": { tag: "agents", summary: "Update an agent", body: AgentUpdate, response: { status: 200, schema: z.object({ agent: Agent }) } },
  "agents.delete": { tag: "agents", summary: "Delete an agent and its files", response: { status: 204 } },
  "sessions.list": {
    tag: "sessions",
    summary: "An agent's sessions, newest first: your own, or everyone's with ?owner=all",
    query: { owner: { schema: SessionOwnerFilter, description: "`mine` (default): the sessions you started; `all`: everyone's, with their owners (owners and admins; audited)" } },
    response: { status: 200, schema: z.object({ sessions: z.array(OwnedSessionSummary) }) },
  },
  "sessions.get": { tag: "sessions", summary: "A session's history and its owner", response: { status: 200, schema: OwnedSessionHistory } },
  "sessions.rename": { tag: "sessions", summary: "Rename a session", body: SessionUpdate, response: { status: 200, schema: z.object({ session: OwnedSessionSummary }) } },
  "sessions.delete": { tag: "sessions", summary: "Delete a session", response: { status: 204 } },
  "sessions.export": { tag: "sessions", summary: "Export a session (?format=json|markdown)", response: { status: 200, schema: SessionHistory } },
  "sessions.search": {
    tag: "sessions",
    summary: "Full-text search over chats' titles and messages, best first, with a snippet around the matches",
    query: {
      q: { schema: SearchQuery.shape.q, description: "the words to find (each as a word or the start of one; all of them)" },
      owner: { schema: SessionOwnerFilter, description: "`mine` (default): the chats you started; `all`: everyone's (owners and admins; audited)" },
      limit: { schema: SearchQuery.shape.limit, description: "results, 1 to 50 (default 20)" },
    },
    response: { status: 200, schema: SearchResponse },
  },
  "sessions.attachment": { tag: "sessions", summary: "A file sent with one of the session's messages: images inline, text files as a download", response: { status: 200, contentType: "application/octet-stream" } },
  "chat.send": { tag: "chat", summary: "Send a message; the answer is an SSE stream of RunEvents (id = seq, header X-Run-Id)", body: SendMessageInput, response: { status: 200, contentType: "text/event-stream" } },
  "runs.events": { tag: "chat", summary: "Resume a run's stream after Last-Event-ID (or ?after=)", response: { status: 200, contentType: "text/event-stream" } },
  "runs.abort": { tag: "chat", summary: "Abort a run", response: { status: 200, schema: RunInfo } },
  "stream.stats": { tag: "usage", summary: "Streaming statistics of every live platform instance, with your organisation's share", response: { status: 200, schema: StreamStats } },
  "usage.read": { tag: "usage", summary: "Token usage (?days=30) and disk use against the quota", response: { status: 200, schema: z.object({ since: z.string(), days: z.number(), totals: Usage, byAgent: z.array(Usage.extend({ agent: z.string() })), disk: UsageDisk }) } },
  "budget.read": { tag: "usage", summary: "The monthly token budget and this month's use", response: { status: 200, schema: z.object({ budget: BudgetView }) } },
  "budget.update": { tag: "usage", summary: "Set the monthly token budget, null for none", body: BudgetInput, response: { status: 200, schema: z.object({ budget: BudgetView }) } },
  "limits.read": { tag: "usage", summary: "The organisation's limits in force (set by the operator; read-only)", response: { status: 200, schema: z.object({ limits: OrganisationLimitsView }) } },
  "schedules.list": { tag: "schedules", summary: "The agent's schedules, each with its next firing time and latest firing", response: { status: 200, schema: ScheduleList } },
  "schedules.create": {
    tag: "schedules",
    summary: "Schedule a message to the agent: `cron` (an expression in `timezone`), `at` (once), or `every` N minutes; `invalid_schedule` names what cannot fire",
    body: ScheduleInput,
    response: { status: 201, schema: ScheduleEnvelope },
  },
  "schedules.get": { tag: "schedules", summary: "One schedule", response: { status: 200, schema: ScheduleEnvelope } },
  "schedules.update": { tag: "schedules", summary: "Change a schedule, or turn it on or off (`enabled`); a new timing is due from now", body: ScheduleUpdate, response: { status: 200, schema: ScheduleEnvelope } },
  "schedules.delete": { tag: "schedules", summary: "Delete a schedule and its firing history", response: { status: 204 } },
  "schedules.run": { tag: "schedules", summary: "Run now: a firing for this moment, started the way a timed one is", response: { status: 202, schema: FiringEnvelope } },
  "schedules.firings": {
    tag: "schedules",
    summary: "A schedule's firings, newest first, with their run ids and outcomes (?limit=&cursor=)",
    query: FIRING_PAGE_QUERY,
    response: { status: 200, schema: FiringList },
  },
  "schedules.agent-firings": {
    tag: "schedules",
    summary: "Recent firings of all the agent's schedules, newest first: its autonomous runs (?limit=&cursor=)",
    query: FIRING_PAGE_QUERY,
    response: { status: 200, schema: AgentFiringList },
  },
  "model-keys.list": { tag: "integrations", summary: "The organisation's own model keys (set or not, a hint) and the operator's policy", response: { status: 200, schema: ModelKeysResponse } },
  "model-keys.set": { tag: "integrations", summary: "Set or replace the organisation's key for a provider (write-only)", body: ModelKeyInput, response: { status: 200, schema: ModelKeyResponse } },
  "model-keys.delete": { tag: "integrations", summary: "Remove the organisation's key for a provider", response: { status: 204 } },
  "audit.list": { tag: "organisations", summary: "Audit log, newest first (?limit=&cursor=&action=&actor=&since=&until=)", response: { status: 200, schema: AuditPage } },
  "composio.overview": { tag: "integrations", summary: "Whether this installation offers Composio apps, and the organisation's connections with their status", response: { status: 200, schema: ComposioOverview } },
  "composio.toolkits": {
    tag: "integrations",
    summary: "The apps (toolkits) Composio offers",
    query: { search: { schema: z.string().max(100), description: "filter by name or description (at least 3 characters)" } },
    response: { status: 200, schema: z.object({ toolkits: z.array(ComposioToolkitView) }) },
  },
  "composio.toolkit-tools": { tag: "integrations", summary: "A toolkit's tools (at most 100)", response: { status: 200, schema: z.object({ tools: z.array(ComposioToolView) }) } },
  "composio.connect": {
    tag: "integrations",
    summary: "Connect an app through Composio's hosted sign-in: send the browser to `redirectUrl`; it comes back to /integrations",
    body: ComposioConnectInput,
    response: { status: 201, schema: ComposioConnectResult },
  },
  "composio.disconnect": { tag: "integrations", summary: "Disconnect an app (the connected account is deleted at Composio too)", response: { status: 204 } },
  "composio.agent-tools": { tag: "integrations", summary: "The Composio toolkits (or tools) an agent may use, and how (allow / ask)", response: { status: 200, schema: AgentComposioTools } },
  "composio.update-agent-tools": { tag: "integrations", summary: "Replace the Composio toolkits an agent may use", body: AgentComposioTools, response: { status: 200, schema: AgentComposioTools } },
  "mcp.list": { tag: "integrations", summary: "The organisation's MCP servers, with their status and cached tools (header names and hints, never values)", response: { status: 200, schema: McpServerList } },
  "mcp.create": { tag: "integrations", summary: "Register an MCP server (headers are write-only)", body: McpServerInput, response: { status: 201, schema: McpServerEnvelope } },
  "mcp.get": { tag: "integrations", summary: "One MCP server", response: { status: 200, schema: McpServerEnvelope } },
  "mcp.update": { tag: "integrations", summary: "Change an MCP server; `headers` replaces them all", body: McpServerUpdate, response: { status: 200, schema: McpServerEnvelope } },
  "mcp.delete": { tag: "integrations", summary: "Remove an MCP server, its grants and its secrets", response: { status: 204 } },
  "mcp.refresh": { tag: "integrations", summary: "List the server's tools again (through the gateway) and cache them; a 401 marks it needs_auth", response: { status: 200, schema: McpServerEnvelope } },
  "mcp.oauth-start": { tag: "integrations", summary: "Begin connecting an OAuth MCP server: the authorization URL to send the browser to", response: { status: 200, schema: McpOAuthStart } },
  "mcp.oauth-callback": { tag: "integrations", summary: "Where the authorization server sends the browser back (?code&state); redirects to /integrations", response: { status: 302 } },
  "agents.tools": { tag: "agents", summary: "The web and MCP tools the agent may use, and those it could be given", response: { status: 200, schema: AgentToolsView } },
  "agents.update-tools": { tag: "agents", summary: "Replace the agent's web and MCP tool grants", body: AgentToolsUpdate, response: { status: 200, schema: AgentToolsView } },
  "heartbeat.get": { tag: "agents", summary: "The agent's heartbeat: settings, HEARTBEAT.md, counters, the last outcome and the last alert", response: { status: 200, schema: HeartbeatView } },
  "heartbeat.update": {
    tag: "agents",
    summary: "Change the agent's heartbeat (fields left out keep their value); `content` replaces HEARTBEAT.md",
    body: HeartbeatSettingsUpdate,
    response: { status: 200, schema: HeartbeatView },
  },
  "heartbeat.run": { tag: "agents", summary: "Run the agent's heartbeat once now (refusals such as budget_exceeded are recorded and answered)", response: { status: 202, schema: HeartbeatRunStarted } },
  "approvals.list": {
    tag: "approvals",
    summary: "Tool calls waiting for a decision (oldest first), or decided ones (newest first), with the pending count",
    query: {
      status: { schema: ApprovalListStatus, description: "`pending` (default), `decided` or `all`" },
      limit: { schema: z.number().int().min(1).max(200), description: "At most this many (default 100)" },
    },
    response: { status: 200, schema: ApprovalList },
  },
  "approvals.count": { tag: "approvals", summary: "How many approvals you may decide are pending", response: { status: 200, schema: ApprovalCount } },
  "approvals.events": {
    tag: "approvals",
    summary: "Server-sent events `approvals`: the pending count at once, then the count and the changed approvals whenever they change",
    response: { status: 200, contentType: "text/event-stream" },
  },
  "approvals.get": { tag: "approvals", summary: "One approval: the tool, its arguments, and its decision", response: { status: 200, schema: ApprovalEnvelope } },
  "approvals.approve": {
    tag: "approvals",
    summary: "Approve the call: the run carries on with it (`resume.runId` names the run, once the gateway took it)",
    body: ApprovalDecisionBody,
    response: { status: 200, schema: ApprovalEnvelope },
  },
  "approvals.deny": {
    tag: "approvals",
    summary: "Deny the call: the run carries on and the model reads the refusal (and the reason)",
    body: ApprovalDecisionBody,
    response: { status: 200, schema: ApprovalEnvelope },
  },
  "agents.tool-modes": { tag: "agents", summary: "The agent's workspace and web tools, each allow, ask (a member approves each call) or deny", response: { status: 200, schema: AgentToolModes } },
  "agents.update-tool-modes": { tag: "agents", summary: "Set some of the agent's tool modes (a web tool's is its grant)", body: AgentToolModesUpdate, response: { status: 200, schema: AgentToolModes } },
  "secrets.list": { tag: "organisations", summary: "The organisation's integration secrets by name, kind and hint (set and removed by the integrations that use them)", response: { status: 200, schema: SecretList } },
  "webhooks.list": { tag: "webhooks", summary: "The organisation's webhook endpoints (the signing secret only as a hint) and how many it may have", response: { status: 200, schema: WebhookEndpointList } },
  "webhooks.create": {
    tag: "webhooks",
    summary: "Register an endpoint for some event types (null: all); the answer holds its signing secret (`whsec_…`), never shown again",
    body: WebhookEndpointInput,
    response: { status: 201, schema: WebhookEndpointWithSecret },
  },
  "webhooks.get": { tag: "webhooks", summary: "One webhook endpoint", response: { status: 200, schema: WebhookEndpointEnvelope } },
  "webhooks.update": {
    tag: "webhooks",
    summary: "Change an endpoint's URL, description or event types, or turn it off or on (on again forgets its failures)",
    body: WebhookEndpointUpdate,
    response: { status: 200, schema: WebhookEndpointEnvelope },
  },
  "webhooks.delete": { tag: "webhooks", summary: "Remove an endpoint, its delivery log and its secrets", response: { status: 204 } },
  "webhooks.rotate-secret": {
    tag: "webhooks",
    summary: "Make a new signing secret (answered this once); the old one also signs for `previousSecretValidHours` (default 24)",
    body: WebhookRotateInput,
    response: { status: 200, schema: WebhookEndpointWithSecret },
  },
  "webhooks.test": { tag: "webhooks", summary: "Send a `webhook.test` event to the endpoint now (one attempt; its outcome shows in the log)", response: { status: 202, schema: WebhookDeliveryEnvelope } },
  "webhooks.deliveries": {
    tag: "webhooks",
    summary: "The endpoint's delivery log, newest first: status, attempts, the last answer's code and excerpt, the next attempt",
    query: {
      limit: { schema: z.number().int().min(1).max(100), description: "deliveries per page (default 25)" },
      cursor: { schema: z.string(), description: "`nextCursor` of the previous page" },
      status: { schema: WebhookDeliveryStatus, description: "only deliveries in this state" },
    },
    response: { status: 200, schema: WebhookDeliveryPage },
  },
  "webhooks.redeliver": {
    tag: "webhooks",
    summary: "Deliver again now: a finished delivery starts a new round of attempts, a waiting retry is made at once; the webhook-id stays the event's",
    response: { status: 202, schema: WebhookDeliveryEnvelope },
  },
};

/** Every operation, in the permission table's order. */
export const OPERATIONS: Operation[] = OPERATION_IDS.map((id) => ({ id, ...ruleOf(id), ...DESCRIPTIONS[id] }));

function jsonSchema(schema: z.ZodType, io: "input" | "output"): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: "any", target: "openapi-3.0" });
}

/** The OpenAPI 3 document, built from OPERATIONS. */
export function buildOpenApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    const params = [
      ...[...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: "path", required: true, schema: { type: "string" } })),
      ...Object.entries(operation.query ?? {}).map(([name, query]) => ({
        name,
        in: "query",
        required: false,
        description: query.description,
        schema: jsonSchema(query.schema, "input"),
      })),
    ];
    const responses: Record<string, unknown> = {
      [String(operation.response?.status ?? 200)]: {
        description: "Success",
        ...(operation.response?.schema
          ? { content: { "application/json": { schema: jsonSchema(operation.response.schema, "output") } } }
          : operation.response?.contentType
            ? { content: { [operation.response.contentType]: { schema: { type: "string" } } } }
            : {}),
      },
      default: { description: "Error: { error: { code, message } }", content: { "application/json": { schema: jsonSchema(ApiErrorBody, "output") } } },
    };
    (paths[operation.path] ??= {})[operation.method] = {
      operationId: operation.id,
      summary: operation.summary,
      description: `Access: ${describeAccess(operation)}`,
      tags: [operation.tag],
      "x-workforce-access": accessExtension(operation.id),
      ...(params.length ? { parameters: params } : {}),
      ...(operation.level === "public" ? { security: [] } : { security: [{ bearer: [] }] }),
      ...(operation.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(operation.body, "input") } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "Workforce platform API",
      version: "0.1.0",
      description:
        "Send `Authorization: Bearer <access token or API key>`; choose the organisation with `X-Tenant-ID`. Every error is `{ error: { code, message } }`. " +
        "Each operation's `x-workforce-access` says who may call it: `level` (public, session, account, tenant), the `roles` allowed, the `apiKeyScope` a key needs (null: keys are refused), and for sessions, runs and members whose object it may be (`ownership`).",
    },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT or wf_ API key" } } },
    paths,
  };
}
