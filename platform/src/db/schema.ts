import type { ColumnType, Generated, Insertable, Kysely, Selectable, Transaction } from "kysely";

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

export interface DatabaseSchema {
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  tenants: TenantsTable;
  memberships: MembershipsTable;
  agents: AgentsTable;
  settings: SettingsTable;
}

export type Database = Kysely<DatabaseSchema>;
export type TenantTransaction = Transaction<DatabaseSchema>;
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
