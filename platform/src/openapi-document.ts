import {
  Agent,
  AgentInput,
  AgentUpdate,
  ApiErrorBody,
  ModelInfo,
  RunInfo,
  SendMessageInput,
  SessionHistory,
  SessionSummary,
  SessionUpdate,
} from "@workforce/protocol";
import { z } from "zod";
import { KeyInput } from "./routes/api-keys";
import { BudgetInput } from "./routes/budget";
import { EraseInput } from "./routes/tenant-data";
import { EmailBody, PasswordGrantBody, RefreshGrantBody, ResendBody, SignUpBody, UserUpdateBody, VerifyBody } from "./routes/auth";
import { AcceptInput, InvitationInput } from "./routes/invitations";
import { OperatorTenantsQuery, SuspensionInput } from "./routes/operator";
import { MemberUpdate, RoleSchema } from "./routes/members";
import { TenantInput } from "./routes/tenants";

interface Operation {
  method: "get" | "post" | "put" | "patch" | "delete";
  path: string;
  summary: string;
  tag: string;
  auth?: boolean;
  body?: z.ZodType;
  /** Query parameters, documented from the same schema the handler parses them with. */
  query?: z.ZodObject;
  response?: { status: number; schema?: z.ZodType; contentType?: string };
}

const TenantView = z.object({ id: z.string(), name: z.string(), role: RoleSchema, suspended: z.boolean().optional() });
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
});
const Usage = z.object({ runs: z.number(), inputTokens: z.number(), outputTokens: z.number() });
const Budget = z.object({
  monthlyTokens: z.number().nullable(),
  usedTokens: z.number(),
  remainingTokens: z.number().nullable(),
  periodStart: z.string(),
  periodEnd: z.string(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
const AuditEntry = z.object({
  id: z.string(),
  action: z.string(),
  target: z.string(),
  actor: z.object({ type: z.enum(["user", "api-key"]), id: z.string().nullable(), email: z.string().nullable() }),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
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

/** Every route, described once with the same zod schemas the handlers validate with. */
export const OPERATIONS: Operation[] = [
  { method: "post", path: "/auth/v1/signup", tag: "auth", summary: "Sign up under the installation's sign-up policy; with `data.invitation_token` joins that organisation. While confirmation is required the answer is the user without a session", body: SignUpBody, response: { status: 200, schema: z.union([Session, GoTrueUser]) } },
  { method: "get", path: "/auth/v1/.well-known/jwks.json", tag: "auth", summary: "The public keys access tokens are signed with (ES256, by kid)", response: { status: 200, schema: z.object({ keys: z.array(z.object({ kid: z.string(), alg: z.literal("ES256") }).loose()) }) } },
  { method: "post", path: "/auth/v1/verify", tag: "auth", summary: "Confirm an address, recover a password or confirm an email change: `{ type, token_hash }` from a mailed link, or `{ type, email, token }` with the 6-digit code", body: VerifyBody, response: { status: 200, schema: Session } },
  { method: "post", path: "/auth/v1/recover", tag: "auth", summary: "Mail a password-reset link and code (the answer is the same whether or not the account exists)", body: EmailBody, response: { status: 200 } },
  { method: "post", path: "/auth/v1/resend", tag: "auth", summary: "Mail the confirmation (signup) or email-change link again", body: ResendBody, response: { status: 200 } },
  { method: "put", path: "/auth/v1/user", tag: "auth", auth: true, summary: "Change the password (a session older than a day sends the `nonce` from /reauthenticate) or the email (confirmed at the new address)", body: UserUpdateBody, response: { status: 200, schema: GoTrueUser } },
  { method: "get", path: "/auth/v1/reauthenticate", tag: "auth", auth: true, summary: "Mail a code that lets an old session change its password", response: { status: 200 } },
  { method: "post", path: "/auth/v1/token?grant_type=password", tag: "auth", summary: "Sign in with email and password", body: PasswordGrantBody, response: { status: 200, schema: Session } },
  { method: "post", path: "/auth/v1/token?grant_type=refresh_token", tag: "auth", summary: "Rotate a refresh token", body: RefreshGrantBody, response: { status: 200, schema: Session } },
  { method: "get", path: "/auth/v1/user", tag: "auth", auth: true, summary: "The signed-in user" },
  { method: "post", path: "/auth/v1/logout", tag: "auth", auth: true, summary: "Sign out (scope=global|local|others)", response: { status: 204 } },
  { method: "get", path: "/api/health", tag: "service", summary: "Liveness and readiness (503 when not ready)", response: { status: 200, schema: Health } },
  { method: "get", path: "/api/config", tag: "service", summary: "Where the web app's auth client points", response: { status: 200, schema: z.object({ supabaseUrl: z.string(), supabaseAnonKey: z.string(), embeddedAuth: z.boolean() }) } },
  { method: "get", path: "/api/me", tag: "account", auth: true, summary: "Me, my organisations and the model", response: { status: 200, schema: z.object({ user: z.object({ id: z.string(), email: z.string() }), tenants: z.array(TenantView), model: ModelInfo }) } },
  { method: "get", path: "/api/tenants", tag: "organisations", auth: true, summary: "My organisations", response: { status: 200, schema: z.object({ tenants: z.array(TenantView) }) } },
  { method: "post", path: "/api/tenants", tag: "organisations", auth: true, summary: "Create an organisation", body: TenantInput, response: { status: 201, schema: z.object({ tenant: TenantView }) } },
  { method: "patch", path: "/api/tenant", tag: "organisations", auth: true, summary: "Rename the current organisation (owner/admin)", body: TenantInput, response: { status: 200, schema: z.object({ tenant: TenantView }) } },
  { method: "delete", path: "/api/tenant", tag: "organisations", auth: true, summary: "Delete the organisation and all its data (owner; confirm with its name)", body: EraseInput, response: { status: 200, schema: z.object({ deleted: z.object({ tenantId: z.string(), agents: z.number(), gatewayData: z.enum(["tenant", "agents"]) }) }) } },
  { method: "get", path: "/api/tenant/export", tag: "organisations", auth: true, summary: "Export the organisation's data as one JSON document (owner/admin)", response: { status: 200, schema: z.object({ format: z.literal("workforce-tenant-export"), version: z.literal(1) }).loose() } },
  { method: "get", path: "/api/members", tag: "organisations", auth: true, summary: "Members of the current organisation", response: { status: 200, schema: z.object({ members: z.array(MemberView) }) } },
  { method: "patch", path: "/api/members/{userId}", tag: "organisations", auth: true, summary: "Change a member's role (owner/admin)", body: MemberUpdate, response: { status: 200, schema: z.object({ member: MemberView }) } },
  { method: "delete", path: "/api/members/{userId}", tag: "organisations", auth: true, summary: "Remove a member, or leave", response: { status: 204 } },
  { method: "get", path: "/api/invitations", tag: "organisations", auth: true, summary: "Pending invitations (owner/admin)", response: { status: 200, schema: z.object({ invitations: z.array(InvitationView) }) } },
  { method: "post", path: "/api/invitations", tag: "organisations", auth: true, summary: "Invite by email with a role (owner/admin); the token is shown once", body: InvitationInput, response: { status: 201, schema: z.object({ invitation: InvitationView, token: z.string(), acceptUrl: z.string() }) } },
  { method: "delete", path: "/api/invitations/{id}", tag: "organisations", auth: true, summary: "Revoke an invitation", response: { status: 204 } },
  { method: "post", path: "/api/invitations/preview", tag: "organisations", summary: "What an invitation link is for (organisation, inviter, role), before signing in", body: AcceptInput, response: { status: 200, schema: z.object({ invitation: InvitationPreview }) } },
  { method: "post", path: "/api/invitations/accept", tag: "organisations", auth: true, summary: "Accept an invitation sent to my email", body: AcceptInput, response: { status: 200, schema: z.object({ tenant: TenantView }) } },
  { method: "get", path: "/api/keys", tag: "api keys", auth: true, summary: "API keys (owner/admin)", response: { status: 200, schema: z.object({ keys: z.array(ApiKeyView) }) } },
  { method: "post", path: "/api/keys", tag: "api keys", auth: true, summary: "Create an API key; the secret is shown once", body: KeyInput, response: { status: 201, schema: z.object({ key: ApiKeyView, secret: z.string() }) } },
  { method: "delete", path: "/api/keys/{id}", tag: "api keys", auth: true, summary: "Revoke an API key", response: { status: 204 } },
  { method: "get", path: "/api/agents", tag: "agents", auth: true, summary: "List agents", response: { status: 200, schema: z.object({ agents: z.array(Agent) }) } },
  { method: "post", path: "/api/agents", tag: "agents", auth: true, summary: "Create an agent", body: AgentInput, response: { status: 201, schema: z.object({ agent: Agent }) } },
  { method: "get", path: "/api/agents/{slug}", tag: "agents", auth: true, summary: "One agent", response: { status: 200, schema: z.object({ agent: Agent }) } },
  { method: "patch", path: "/api/agents/{slug}", tag: "agents", auth: true, summary: "Update an agent", body: AgentUpdate, response: { status: 200, schema: z.object({ agent: Agent }) } },
  { method: "delete", path: "/api/agents/{slug}", tag: "agents", auth: true, summary: "Delete an agent and its files", response: { status: 204 } },
  { method: "get", path: "/api/agents/{slug}/sessions", tag: "sessions", auth: true, summary: "An agent's sessions, newest first", response: { status: 200, schema: z.object({ sessions: z.array(SessionSummary) }) } },
  { method: "get", path: "/api/agents/{slug}/sessions/{key}", tag: "sessions", auth: true, summary: "A session's history", response: { status: 200, schema: SessionHistory } },
  { method: "patch", path: "/api/agents/{slug}/sessions/{key}", tag: "sessions", auth: true, summary: "Rename a session", body: SessionUpdate, response: { status: 200, schema: z.object({ session: SessionSummary }) } },
  { method: "delete", path: "/api/agents/{slug}/sessions/{key}", tag: "sessions", auth: true, summary: "Delete a session", response: { status: 204 } },
  { method: "get", path: "/api/agents/{slug}/sessions/{key}/export", tag: "sessions", auth: true, summary: "Export a session (?format=json|markdown)", response: { status: 200, schema: SessionHistory } },
  { method: "post", path: "/api/agents/{slug}/messages", tag: "chat", auth: true, summary: "Send a message; the answer is an SSE stream of RunEvents (id = seq, header X-Run-Id)", body: SendMessageInput, response: { status: 200, contentType: "text/event-stream" } },
  { method: "get", path: "/api/runs/{runId}/events", tag: "chat", auth: true, summary: "Resume a run's stream after Last-Event-ID (or ?after=)", response: { status: 200, contentType: "text/event-stream" } },
  { method: "post", path: "/api/runs/{runId}/abort", tag: "chat", auth: true, summary: "Abort a run", response: { status: 200, schema: RunInfo } },
  { method: "get", path: "/api/stream/stats", tag: "usage", auth: true, summary: "Streaming statistics of every live platform instance, with your organisation's share", response: { status: 200, schema: StreamStats } },
  { method: "get", path: "/api/usage", tag: "usage", auth: true, summary: "Token usage (?days=30)", response: { status: 200, schema: z.object({ since: z.string(), days: z.number(), totals: Usage, byAgent: z.array(Usage.extend({ agent: z.string() })) }) } },
  { method: "get", path: "/api/budget", tag: "usage", auth: true, summary: "The monthly token budget and this month's use", response: { status: 200, schema: z.object({ budget: Budget }) } },
  { method: "put", path: "/api/budget", tag: "usage", auth: true, summary: "Set the monthly token budget, null for none (owner/admin)", body: BudgetInput, response: { status: 200, schema: z.object({ budget: Budget }) } },
  { method: "get", path: "/api/operator/tenants", tag: "operator", auth: true, summary: "Every organisation with this month's usage (the installation's operator; ?limit=&cursor=)", query: OperatorTenantsQuery, response: { status: 200, schema: z.object({ tenants: z.array(OperatorTenant), nextCursor: z.string().nullable() }) } },
  { method: "patch", path: "/api/operator/tenants/{id}", tag: "operator", auth: true, summary: "Suspend an organisation (its requests answer 403 tenant_suspended) or lift the suspension (the operator)", body: SuspensionInput, response: { status: 200 } },
  { method: "get", path: "/api/audit", tag: "organisations", auth: true, summary: "Audit log, newest first (owner/admin; ?limit=&cursor=&action=)", response: { status: 200, schema: z.object({ entries: z.array(AuditEntry), nextCursor: z.string().nullable() }) } },
];

function jsonSchema(schema: z.ZodType, io: "input" | "output"): unknown {
  return z.toJSONSchema(schema, { io, unrepresentable: "any", target: "openapi-3.0" });
}

/** The OpenAPI 3 document, built from OPERATIONS. */
export function buildOpenApiDocument(serverUrl: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    const params: Record<string, unknown>[] = [...operation.path.matchAll(/\{(\w+)\}/g)].map((match) => ({ name: match[1], in: "path", required: true, schema: { type: "string" } }));
    for (const [name, schema] of Object.entries(operation.query?.shape ?? {})) {
      params.push({ name, in: "query", required: false, schema: jsonSchema(schema as z.ZodType, "input") });
    }
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
      summary: operation.summary,
      tags: [operation.tag],
      ...(params.length ? { parameters: params } : {}),
      ...(operation.auth ? { security: [{ bearer: [] }] } : { security: [] }),
      ...(operation.body ? { requestBody: { required: true, content: { "application/json": { schema: jsonSchema(operation.body, "input") } } } } : {}),
      responses,
    };
  }
  return {
    openapi: "3.0.3",
    info: {
      title: "Workforce platform API",
      version: "0.1.0",
      description: "Send `Authorization: Bearer <access token or API key>`; choose the organisation with `X-Tenant-ID`. Every error is `{ error: { code, message } }`.",
    },
    servers: [{ url: serverUrl }],
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT or wf_ API key" } } },
    paths,
  };
}
