import type { TenantTransaction } from "../db/scopes";

/**
 * What a tenant hands us, by use. One store for all of it (issue 14): MCP server headers and OAuth
 * tokens, Composio connections, webhook signing secrets, model API keys.
 */
export type SecretKind = "mcp-headers" | "mcp-oauth" | "composio" | "webhook" | "model-key";

/** A secret's name within its tenant: chosen by the feature that stores it (`mcp/{serverId}/headers`, `model-key/anthropic`). */
export const SECRET_NAME_PATTERN = /^[a-z0-9][a-z0-9/_.:-]{0,199}$/;

/** What anyone may see of a secret: never its value, only a hint such as its last 4 characters. */
export interface SecretSummary {
  name: string;
  kind: SecretKind;
  /** "…abcd" (or "set" for values too short to hint at safely). */
  hint: string;
  createdAt: string;
  updatedAt: string;
  /** The user who last set it, when a user did. */
  updatedBy: string | null;
}

/**
 * The tenant secret store: envelope-encrypted values (a fresh AES-256-GCM data key per value under
 * the master key, decision 011), bound to their tenant and name as associated data, under forced
 * row-level security. Every method runs inside the caller's tenant transaction, so a secret is
 * written together with the rows that refer to it.
 */
export interface TenantSecrets {
  /** Stores (or replaces) a value; answers its summary. */
  put(trx: TenantTransaction, tenantId: string, input: { name: string; kind: SecretKind; value: string; userId?: string | null }): Promise<SecretSummary>;
  /** The decrypted value, or undefined when there is none. For the run's integrations and outgoing calls only: never an API answer. */
  reveal(trx: TenantTransaction, tenantId: string, name: string): Promise<string | undefined>;
  /** Removes one; answers whether it existed. */
  remove(trx: TenantTransaction, tenantId: string, name: string): Promise<boolean>;
  /** Removes every secret whose name starts with `prefix` (a deleted MCP server's headers and tokens). */
  removePrefix(trx: TenantTransaction, tenantId: string, prefix: string): Promise<number>;
  list(trx: TenantTransaction, tenantId: string): Promise<SecretSummary[]>;
}
