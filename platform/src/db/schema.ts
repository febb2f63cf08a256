import type { ColumnType, Generated, Insertable, Selectable } from "kysely";

type CreatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;

export type Role = "owner" | "admin" | "member";

export interface UsersTable {
  id: Generated<string>;
  email: string;
  password_hash: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  last_sign_in_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** Null until the address is confirmed (by a link or code sent to it, or by accepting an invitation sent to it). */
  email_confirmed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** The installation's operator (the first user): sees every organisation and may suspend one. */
  is_operator: Generated<boolean>;
}

/** One sign-in: refresh tokens rotate within it; signing out revokes it, and with it its access tokens. */
export interface AuthSessionsTable {
  id: Generated<string>;
  user_id: string;
  created_at: CreatedAt;
  /** The last refresh: the idle lifetime counts from here. */
  refreshed_at: ColumnType<Date, Date | string | undefined, Date | string>;
  revoked_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** How the session began: a password, a recovery link, or a confirmation link/code. */
  amr: ColumnType<"password" | "recovery" | "otp", "password" | "recovery" | "otp" | undefined, "password" | "recovery" | "otp">;
}

export type OneTimeTokenKind = "confirm-signup" | "recovery" | "email-change" | "reauthentication";

/** A link token and a 6-digit code sent by email, both stored as hashes; single use. */
export interface OneTimeTokensTable {
  id: Generated<string>;
  user_id: string;
  kind: OneTimeTokenKind;
  token_hash: string;
  code_hash: string;
  /** Where it was sent (for an email change: the new address). */
  email: string;
  created_at: CreatedAt;
  expires_at: Date | string;
  used_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  attempts: Generated<number>;
}

/** One row per refresh token; `session_id` is the family every rotation stays in. */
export interface RefreshTokensTable {
  token_hash: string;
  user_id: string;
  session_id: string;
  parent_hash: string | null;
  revoked: Generated<boolean>;
  created_at: CreatedAt;
}

export interface TenantsTable {
  id: Generated<string>;
  name: string;
  created_at: CreatedAt;
  /** Set by the operator: every request for the organisation is refused until lifted. */
  suspended_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  suspended_reason: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface MembershipsTable {
  tenant_id: string;
  user_id: string;
  role: Role;
  created_at: CreatedAt;
}

/** The platform's record of an agent; the agent itself (files, identity) lives in the gateway. */
export interface AgentsTable {
  tenant_id: string;
  slug: string;
  name: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SettingsTable {
  key: string;
  value: string;
}

export interface InvitationsTable {
  id: Generated<string>;
  tenant_id: string;
  email: string;
  role: Role;
  token_hash: string;
  invited_by: string | null;
  created_at: CreatedAt;
  expires_at: Date | string;
  accepted_at: Date | null;
  revoked_at: Date | null;
}

export interface ApiKeysTable {
  id: Generated<string>;
  tenant_id: string;
  name: string;
  /** The first characters of the key, shown in lists so people can tell keys apart. */
  prefix: string;
  key_hash: string;
  scopes: string[];
  created_by: string | null;
  created_at: CreatedAt;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export interface UsageEventsTable {
  id: Generated<string>;
  tenant_id: string;
  user_id: string | null;
  api_key_id: string | null;
  agent_slug: string;
  run_id: string;
  status: string;
  input_tokens: number;
  output_tokens: number;
  created_at: CreatedAt;
  /** Whose model key the run used (migration 015); null when not known (before issue 14: the operator's). */
  key_source: ColumnType<"platform" | "organisation" | null, "platform" | "organisation" | null | undefined, "platform" | "organisation" | null>;
}

/** What is not secret about an organisation's own model key (migration 015); the key is the tenant secret `model-key/{provider}`. */
export interface ModelKeysTable {
  tenant_id: string;
  provider: "anthropic" | "openai-compatible";
  base_url: string | null;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  updated_by: string | null;
}

/** How far the platform has ingested a tenant's usage journal on the gateway (migration 009). */
export interface UsageIngestCursorsTable {
  tenant_id: string;
  /** A byte offset; bigint comes back as a string from Postgres. */
  journal_offset: ColumnType<string | number, number, number>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface AuditLogTable {
  id: Generated<string>;
  tenant_id: string;
  actor_user_id: string | null;
  actor_api_key_id: string | null;
  action: string;
  target: string;
  details: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: CreatedAt;
  /** Insertion order, for paging; Postgres returns bigint as a string, PGlite as a number. */
  seq: ColumnType<string | number, never, never>;
}

/** One rate-limit counter per key and fixed window (migration 007, `limits/rate-limiter.ts`). */
export interface RateLimitsTable {
  key: string;
  window_start: Date;
  expires_at: Date;
  count: number;
}

/** One open stream's lease (migration 011, `limits/stream-leases.ts`): live while `expires_at` is ahead. */
export interface StreamLeasesTable {
  id: string;
  /** Whose stream: `key:<api key id>` or `user:<tenant id>:<user id>`. */
  subject: string;
  acquired_at: Date;
  expires_at: Date;
}

/** One platform process's stream counters, rewritten every few seconds (the heartbeat). */
export interface StreamInstancesTable {
  instance_id: string;
  started_at: CreatedAt;
  heartbeat_at: ColumnType<Date, Date | string | undefined, Date | string>;
  open_streams: number;
  /** bigint: a string from Postgres, a number from PGlite. */
  streams_started: ColumnType<string | number, number, number>;
  events_sent: ColumnType<string | number, number, number>;
  resumes: ColumnType<string | number, number, number>;
}

/** Open streams per tenant on one instance (row-level security: a tenant reads only its own). */
export interface StreamTenantStreamsTable {
  instance_id: string;
  tenant_id: string;
  open_streams: number;
}

/** Recent time-to-first-token samples of every instance, pruned by age. */
export interface TtftSamplesTable {
  id: ColumnType<string | number, never, never>;
  instance_id: string;
  ttft_ms: number;
  recorded_at: CreatedAt;
}

/** A tenant's monthly token budget; null `monthly_tokens` means unlimited. */
export interface TenantBudgetsTable {
  tenant_id: string;
  monthly_tokens: ColumnType<string | number | null, number | null, number | null>;
  updated_by: string | null;
  updated_at: UpdatedAt;
}

/** The operator's overrides of an organisation's limits (migration 010); null means the installation's default. */
export interface TenantLimitsTable {
  tenant_id: string;
  max_concurrent_runs: number | null;
  max_queued_runs: number | null;
  monthly_tokens: ColumnType<string | number | null, number | null, number | null>;
  disk_mb: ColumnType<string | number | null, number | null, number | null>;
  requests_per_minute: number | null;
  max_streams: number | null;
  updated_at: UpdatedAt;
  updated_by: string | null;
}

/** The policy version the gateway must hold, and the newest one it accepted (migration 010). */
export interface TenantPolicyPushesTable {
  tenant_id: string;
  version: ColumnType<string | number, number, number>;
  pushed_version: ColumnType<string | number, number | undefined, number>;
  changed_at: CreatedAt;
  pushed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
}

export type SigningKeyStatus = "standby" | "current" | "previous" | "revoked";

/** An ES256 signing key of the embedded auth (decision 011); only the system scope sees it. */
export interface SigningKeysTable {
  kid: string;
  algorithm: ColumnType<"ES256", "ES256" | undefined, never>;
  /** The public key as a JWK ({ kty, crv, x, y }); parsed where it is read. */
  public_jwk: ColumnType<unknown, string, string>;
  /** PKCS#8 private key, `encryptSecret`ed with associated data "signing-key:<kid>"; null once revoked. */
  private_key: string | null;
  status: SigningKeyStatus;
  created_at: CreatedAt;
  activated_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  retired_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  revoked_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/**
 * One tenant secret (migration 012, `secrets/tenant-secrets.ts`): the value only as an envelope
 * (`encryptSecret` with associated data "tenant-secret:<tenant id>:<name>"), never returned by any API.
 */
export interface TenantSecretsTable {
  tenant_id: string;
  name: string;
  kind: string;
  ciphertext: string;
  /** "…abcd" or "set": all anyone is shown of the value. */
  hint: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  updated_by: string | null;
}

/** Who started a session (migration 005): a user, an API key, or (both null) nobody any more. */
export interface SessionOwnersTable {
  tenant_id: string;
  agent_slug: string;
  session_key: string;
  user_id: string | null;
  api_key_id: string | null;
  created_at: CreatedAt;
}

/** An organisation's connection of one Composio toolkit (migration 015). */
export interface ComposioConnectionsTable {
  id: Generated<string>;
  tenant_id: string;
  toolkit: string;
  connected_account_id: string;
  status: "pending" | "active" | "failed" | "expired" | "inactive";
  state_hash: string | null;
  state_expires_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** A Composio toolkit an agent may use (migration 015); `tools` null: every tool of it. */
export interface ComposioAgentToolsTable {
  tenant_id: string;
  agent_slug: string;
  toolkit: string;
  tools: string[] | null;
  mode: "allow" | "ask";
  updated_by: string | null;
  updated_at: UpdatedAt;
}

/** An organisation's remote MCP server (migration 014); its header values and OAuth tokens are tenant secrets. */
export interface McpServersTable {
  id: string;
  tenant_id: string;
  name: string;
  namespace: string;
  url: string;
  transport: "streamable-http" | "sse";
  auth: "none" | "headers" | "oauth";
  /** `[{ name, hint }]` of the headers secret: what answers show instead of the values. */
  header_hints: ColumnType<unknown, string | undefined, string>;
  status: ColumnType<"unchecked" | "ok" | "needs_auth" | "error", "unchecked" | "ok" | "needs_auth" | "error" | undefined, "unchecked" | "ok" | "needs_auth" | "error">;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  /** The last `tools/list` answer (parsed where it is read). */
  tools: ColumnType<unknown, string | undefined, string>;
  tools_refreshed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: CreatedAt;
  created_by: string | null;
  updated_at: UpdatedAt;
  updated_by: string | null;
}

/** A web or MCP tool an agent may use (migration 014); `server_id` is null for web tools. */
export interface AgentToolGrantsTable {
  id: string;
  tenant_id: string;
  agent_slug: string;
  source: "web" | "mcp";
  server_id: string | null;
  tool: string;
  mode: "allow" | "ask";
  created_at: CreatedAt;
}

/** A pending MCP OAuth authorisation (migration 014): single use, short-lived. */
export interface McpOAuthStatesTable {
  state_hash: string;
  tenant_id: string;
  server_id: string;
  user_id: string;
  created_at: CreatedAt;
  expires_at: Date;
}

/** A durable job (migration 016, platform/src/jobs/job-queue.ts); `tenant_id` null: the platform's own. */
export interface JobsTable {
  id: Generated<string>;
  tenant_id: string | null;
  kind: string;
  key: string | null;
  payload: ColumnType<Record<string, unknown>, string | undefined, string>;
  status: ColumnType<"queued" | "running" | "done" | "dead", "queued" | undefined, "queued" | "running" | "done" | "dead">;
  run_at: ColumnType<Date, Date | string, Date | string>;
  attempts: ColumnType<number, number | undefined, number>;
  max_attempts: ColumnType<number, number | undefined, number>;
  locked_by: string | null;
  locked_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_error: string | null;
  created_at: CreatedAt;
  finished_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** An event of an organisation's (migration 016, platform/src/jobs/tenant-events.ts). */
export interface TenantEventsTable {
  id: Generated<string>;
  /** Insertion order; Postgres returns bigint as a string, PGlite as a number. */
  seq: ColumnType<string | number, never, never>;
  tenant_id: string;
  type: string;
  dedupe_key: string | null;
  data: ColumnType<Record<string, unknown>, string | undefined, string>;
  occurred_at: ColumnType<Date, Date | string, Date | string>;
}

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;

/** A schedule of an agent's (migration 017, platform/src/jobs/schedules/). */
export interface SchedulesTable {
  id: Generated<string>;
  tenant_id: string;
  agent_slug: string;
  name: string;
  kind: "cron" | "at" | "every";
  cron: string | null;
  at: NullableTimestamp;
  every_seconds: number | null;
  timezone: string;
  message: string;
  session_mode: "fixed" | "new";
  session_key: string | null;
  catch_up: ColumnType<"skip" | "run_once", "skip" | "run_once" | undefined, "skip" | "run_once">;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  next_fire_at: NullableTimestamp;
  created_by: string | null;
  updated_by: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type FiringStatusColumn = "pending" | "started" | "refused" | "skipped" | "completed" | "failed";

/** One firing time of a schedule (migration 017): the run it started and its outcome. */
export interface ScheduleFiringsTable {
  id: Generated<string>;
  tenant_id: string;
  schedule_id: string;
  scheduled_for: Timestamp;
  status: ColumnType<FiringStatusColumn, FiringStatusColumn | undefined, FiringStatusColumn>;
  manual: ColumnType<boolean, boolean | undefined, boolean>;
  requested_by: string | null;
  missed_count: ColumnType<number, number | undefined, number>;
  missed_from: NullableTimestamp;
  session_key: string | null;
  run_id: string | null;
  error_code: string | null;
  error_message: string | null;
  fired_at: NullableTimestamp;
  ended_at: NullableTimestamp;
  input_tokens: number | null;
  output_tokens: number | null;
  created_at: CreatedAt;
}

/** An agent's heartbeat settings and what came of it (migration 018, platform/src/jobs/heartbeats.ts). */
export interface AgentHeartbeatsTable {
  id: Generated<string>;
  tenant_id: string;
  agent_slug: string;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  every_minutes: ColumnType<number, number | undefined, number>;
  active_start: string | null;
  active_end: string | null;
  time_zone: ColumnType<string, string | undefined, string>;
  session_key: ColumnType<string, string | undefined, string>;
  enabled_by: string | null;
  next_due_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  ok_count: ColumnType<number, number | undefined, number>;
  alert_count: ColumnType<number, number | undefined, number>;
  skipped_count: ColumnType<number, number | undefined, number>;
  failed_count: ColumnType<number, number | undefined, number>;
  refused_count: ColumnType<number, number | undefined, number>;
  last_outcome: ColumnType<"ok" | "alert" | "skipped" | "failed" | "refused" | null, "ok" | "alert" | "skipped" | "failed" | "refused" | null | undefined, "ok" | "alert" | "skipped" | "failed" | "refused" | null>;
  last_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_run_id: string | null;
  last_error_code: string | null;
  last_error_message: string | null;
  last_due_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_outcome_run_id: string | null;
  last_alert_text: string | null;
  last_alert_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  last_alert_run_id: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
  updated_by: string | null;
}

/** A paused tool call waiting for (or given) a decision (migration 020, platform/src/approvals). */
export interface ApprovalsTable {
  tenant_id: string;
  id: string;
  agent_slug: string;
  session_key: string;
  run_id: string;
  tool_call_id: string;
  tool: string;
  input: ColumnType<unknown, string, string>;
  input_truncated: ColumnType<boolean, boolean | undefined, boolean>;
  status: ColumnType<"pending" | "approved" | "denied" | "expired", "pending" | undefined, "approved" | "denied" | "expired">;
  requested_at: ColumnType<Date, Date | string, Date | string>;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  decided_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  decided_by: string | null;
  decided_by_api_key: string | null;
  reason: string | null;
  resume_run_id: string | null;
  resumed_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  resume_error: string | null;
  updated_at: ColumnType<Date, Date | string, Date | string>;
}

/** An agent's mode of a workspace tool (migration 020): allow, ask or deny. */
export interface AgentToolModesTable {
  tenant_id: string;
  agent_slug: string;
  tool: string;
  mode: "allow" | "ask" | "deny";
  updated_by: string | null;
  updated_at: ColumnType<Date, Date | string, Date | string>;
}

/**
 * A chat as search reads it (migration 022, decision 043): its title and messages' text, with the
 * full-text document Postgres derives from them (a generated column, never written).
 */
export interface SessionSearchTable {
  tenant_id: string;
  agent_slug: string;
  session_key: string;
  title: string;
  body: string;
  message_count: number;
  session_updated_at: ColumnType<Date, Date | string, Date | string>;
  indexed_at: ColumnType<Date, Date | string, Date | string>;
}

/** An organisation's outbound webhook endpoint (migration 019); its signing secret is a tenant secret. */
export interface WebhookEndpointsTable {
  id: Generated<string>;
  tenant_id: string;
  url: string;
  description: ColumnType<string, string | undefined, string>;
  /** null: every event type. */
  event_types: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  failing_since: ColumnType<Date | null, Date | null | undefined, Date | null>;
  secret_hint: string;
  previous_secret_expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_by: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** One event's delivery to one endpoint (migration 019), with its last attempt's outcome. */
export interface WebhookDeliveriesTable {
  id: Generated<string>;
  tenant_id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The body exactly as signed and sent. */
  payload: string;
  status: ColumnType<"pending" | "failed" | "succeeded" | "dead", "pending" | undefined, "pending" | "failed" | "succeeded" | "dead">;
  attempts: ColumnType<number, number | undefined, number>;
  last_status_code: ColumnType<number | null, number | null | undefined, number | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  response_excerpt: ColumnType<string | null, string | null | undefined, string | null>;
  last_attempt_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  next_attempt_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface DatabaseSchema {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  auth_sessions: AuthSessionsTable;
  one_time_tokens: OneTimeTokensTable;
  tenants: TenantsTable;
  memberships: MembershipsTable;
  agents: AgentsTable;
  settings: SettingsTable;
  invitations: InvitationsTable;
  api_keys: ApiKeysTable;
  usage_events: UsageEventsTable;
  model_keys: ModelKeysTable;
  usage_ingest_cursors: UsageIngestCursorsTable;
  audit_log: AuditLogTable;
  rate_limits: RateLimitsTable;
  stream_leases: StreamLeasesTable;
  stream_instances: StreamInstancesTable;
  stream_tenant_streams: StreamTenantStreamsTable;
  ttft_samples: TtftSamplesTable;
  tenant_budgets: TenantBudgetsTable;
  tenant_limits: TenantLimitsTable;
  tenant_policy_pushes: TenantPolicyPushesTable;
  signing_keys: SigningKeysTable;
  session_owners: SessionOwnersTable;
  tenant_secrets: TenantSecretsTable;
  composio_connections: ComposioConnectionsTable;
  composio_agent_tools: ComposioAgentToolsTable;
  mcp_servers: McpServersTable;
  agent_tool_grants: AgentToolGrantsTable;
  mcp_oauth_states: McpOAuthStatesTable;
  jobs: JobsTable;
  tenant_events: TenantEventsTable;
  schedules: SchedulesTable;
  schedule_firings: ScheduleFiringsTable;
  agent_heartbeats: AgentHeartbeatsTable;
  approvals: ApprovalsTable;
  agent_tool_modes: AgentToolModesTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  session_search: SessionSearchTable;
}

export type { Database, SystemDatabase, SystemTransaction, TenantTransaction, UserTransaction } from "./scopes";
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
