import { AppError, describeZodError, SecretKind } from "@workforce/protocol";
import { z } from "zod";
import { audit } from "../db/audit";
import type { TenantTransaction } from "../db/scopes";
import { encryptSecret, SecretDecryptionError } from "./envelope";
import { decryptWithRing, type MasterKeyRing } from "./master-key-ring";

/**
 * What a tenant hands us, by use. One store for all of it (issue 14): MCP server headers and OAuth
 * tokens, Composio connections, webhook signing secrets, model API keys.
 */
export const SecretKindSchema = SecretKind;
export const SECRET_KINDS = SecretKind.options;
export type { SecretKind };

/** A secret's name within its tenant: chosen by the feature that stores it (`mcp/{serverId}/headers`, `model-key/anthropic`). */
export const SECRET_NAME_PATTERN = /^[a-z0-9][a-z0-9/_.:-]{0,199}$/;

/** The longest value the store keeps (an OAuth token set as JSON fits many times over). */
export const MAX_SECRET_VALUE_CHARS = 64 * 1024;
/** Values shorter than this are hinted as "set": four characters of a short value give too much away. */
export const HINT_MIN_CHARS = 12;

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

/** Who changes a secret, for the audit log; absent or null: the platform itself (a token refresh). */
export interface SecretActor {
  userId?: string | null;
  apiKeyId?: string | null;
}

/**
 * The tenant secret store: envelope-encrypted values (a fresh AES-256-GCM data key per value under
 * the master key, decision 011), bound to their tenant and name as associated data, under forced
 * row-level security. Every method runs inside the caller's tenant transaction, so a secret is
 * written together with the rows that refer to it. Every put and remove is audited (name and
 * kind, never the value) in that transaction.
 */
export interface TenantSecrets {
  /** Stores (or replaces) a value; answers its summary. */
  put(trx: TenantTransaction, tenantId: string, input: { name: string; kind: SecretKind; value: string } & SecretActor): Promise<SecretSummary>;
  /**
   * The decrypted value, or undefined when there is none. For the run's integrations and outgoing
   * calls only: never an API answer. Throws AppError `secret_unreadable` when it does not decrypt.
   */
  reveal(trx: TenantTransaction, tenantId: string, name: string): Promise<string | undefined>;
  /** Removes one; answers whether it existed. */
  remove(trx: TenantTransaction, tenantId: string, name: string, actor?: SecretActor): Promise<boolean>;
  /** Removes every secret whose name starts with `prefix` (a deleted MCP server's headers and tokens); answers how many. */
  removePrefix(trx: TenantTransaction, tenantId: string, prefix: string, actor?: SecretActor): Promise<number>;
  /** Every secret of the tenant by name, as summaries. */
  list(trx: TenantTransaction, tenantId: string): Promise<SecretSummary[]>;
}

export interface TenantSecretsDeps {
  /** The master key that encrypts, and during a master-key rotation the previous one that still decrypts. */
  keys: MasterKeyRing;
  now: () => Date;
}

/** The associated data binding a stored value to its tenant and name: moved anywhere else, it does not decrypt. */
export const tenantSecretAssociatedData = (tenantId: string, name: string) => `tenant-secret:${tenantId}:${name}`;

/** "…abcd" for a value of at least HINT_MIN_CHARS characters, else "set". Counts characters, not UTF-16 units. */
/** Kinds whose values are JSON documents, hinted as "set" only. */
const STRUCTURED_KINDS: ReadonlySet<SecretKind> = new Set<SecretKind>(["mcp-headers", "mcp-oauth"]);

export function secretHint(value: string): string {
  const characters = [...value];
  return characters.length >= HINT_MIN_CHARS ? `…${characters.slice(-4).join("")}` : "set";
}

const SecretName = z.string().regex(SECRET_NAME_PATTERN, "must be 1–200 characters of a-z, 0-9 and / _ . : - (starting with a letter or digit)");
const PutInput = z.object({
  name: SecretName,
  kind: SecretKindSchema,
  value: z.string().min(1, "must not be empty").max(MAX_SECRET_VALUE_CHARS, `must be at most ${MAX_SECRET_VALUE_CHARS} characters`),
});

/** Parses the store's input; the message names the field but never echoes a value. */
function parse<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new AppError("validation_failed", describeZodError(parsed.error, what));
  return parsed.data;
}

const actorOf = (actor: SecretActor | undefined) => ({ userId: actor?.userId ?? null, apiKeyId: actor?.apiKeyId ?? null });

const SUMMARY_COLUMNS = ["name", "kind", "hint", "created_at", "updated_at", "updated_by"] as const;
type SummaryRow = { name: string; kind: string; hint: string; created_at: Date; updated_at: Date; updated_by: string | null };
const toSummary = (row: SummaryRow): SecretSummary => ({
  name: row.name,
  kind: SecretKindSchema.parse(row.kind),
  hint: row.hint,
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
  updatedBy: row.updated_by,
});

/** The store over `tenant_secrets` (migration 012). */
export function createTenantSecrets(deps: TenantSecretsDeps): TenantSecrets {
  return {
    async put(trx, tenantId, input) {
      const { name, kind, value } = parse(PutInput, { name: input.name, kind: input.kind, value: input.value }, "secret");
      const actor = actorOf(input);
      const now = deps.now();
      const row = {
        kind,
        ciphertext: encryptSecret(deps.keys.current, value, tenantSecretAssociatedData(tenantId, name)),
        // A structured value (headers, OAuth tokens as JSON) ends in JSON punctuation and part of its last
        // value: its tail would show some of a token without helping anyone recognise it.
        hint: STRUCTURED_KINDS.has(kind) ? "set" : secretHint(value),
        updated_at: now,
        updated_by: actor.userId,
      };
      const saved = await trx
        .insertInto("tenant_secrets")
        .values({ tenant_id: tenantId, name, created_at: now, ...row })
        .onConflict((conflict) => conflict.columns(["tenant_id", "name"]).doUpdateSet(row))
        .returning(SUMMARY_COLUMNS)
        .executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "secret.set", target: name, details: { kind } });
      return toSummary(saved);
    },

    async reveal(trx, tenantId, name) {
      const row = await trx.selectFrom("tenant_secrets").select("ciphertext").where("tenant_id", "=", tenantId).where("name", "=", name).executeTakeFirst();
      if (!row) return undefined;
      try {
        return decryptWithRing(deps.keys, row.ciphertext, tenantSecretAssociatedData(tenantId, name)).toString("utf8");
      } catch (error) {
        if (!(error instanceof SecretDecryptionError)) throw error;
        throw new AppError("secret_unreadable", `the organisation's secret "${name}" cannot be decrypted: ${error.message}; set it again`, { cause: error });
      }
    },

    async remove(trx, tenantId, name, actor) {
      const removed = await trx.deleteFrom("tenant_secrets").where("tenant_id", "=", tenantId).where("name", "=", name).returning("kind").executeTakeFirst();
      if (removed) await audit(trx, { tenantId, actor: actorOf(actor), action: "secret.remove", target: name, details: { kind: removed.kind } });
      return removed !== undefined;
    },

    async removePrefix(trx, tenantId, prefix, actor) {
      const start = parse(SecretName, prefix, "prefix");
      const removed = await trx
        .deleteFrom("tenant_secrets")
        .where("tenant_id", "=", tenantId)
        // Compared as text, not LIKE: names may hold "_", which LIKE would take as a wildcard.
        .where((eb) => eb(eb.fn("left", ["name", eb.val(start.length)]), "=", start))
        .returning(["name", "kind"])
        .execute();
      for (const row of removed) await audit(trx, { tenantId, actor: actorOf(actor), action: "secret.remove", target: row.name, details: { kind: row.kind } });
      return removed.length;
    },

    async list(trx, tenantId) {
      const rows = await trx.selectFrom("tenant_secrets").select(SUMMARY_COLUMNS).where("tenant_id", "=", tenantId).orderBy("name").execute();
      return rows.map(toSummary);
    },
  };
}
