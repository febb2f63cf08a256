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

export interface SignInFailuresTable {
  id: Generated<string>;
  email: string;
  failed_at: CreatedAt;
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

/** Who started a session (migration 005): a user, an API key, or (both null) nobody any more. */
export interface SessionOwnersTable {
  tenant_id: string;
  agent_slug: string;
  session_key: string;
  user_id: string | null;
  api_key_id: string | null;
  created_at: CreatedAt;
}

export interface DatabaseSchema {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  tenants: TenantsTable;
  memberships: MembershipsTable;
  agents: AgentsTable;
  settings: SettingsTable;
  invitations: InvitationsTable;
  api_keys: ApiKeysTable;
  usage_events: UsageEventsTable;
  audit_log: AuditLogTable;
  sign_in_failures: SignInFailuresTable;
  stream_instances: StreamInstancesTable;
  stream_tenant_streams: StreamTenantStreamsTable;
  ttft_samples: TtftSamplesTable;
  tenant_budgets: TenantBudgetsTable;
  session_owners: SessionOwnersTable;
}

export type { Database, SystemDatabase, SystemTransaction, TenantTransaction, UserTransaction } from "./scopes";
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
