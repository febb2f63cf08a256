import { sql } from "kysely";
import { signingKeyAssociatedData } from "../auth/signing-key-store";
import { withSystem, type SystemDatabase, type SystemTransaction } from "../db/scopes";
import { encryptSecret, SecretDecryptionError } from "./envelope";
import { decryptWithRing, type MasterKeyRing } from "./master-key-ring";
import { tenantSecretAssociatedData } from "./tenant-secrets";

/**
 * Master-key rotation's database half (decision 029): every stored envelope not yet under the
 * current master key is decrypted with the key it names (the ring's previous one) and encrypted
 * again under the current key, with the same associated data. A fresh data key comes with it, so
 * nothing encrypted under the old key survives. Rows are read in key order, a batch per short
 * transaction, and each is written back only if it has not changed since it was read (a platform
 * process setting the same secret meanwhile wins). Running it again finds nothing to do.
 */

/** One kind of encrypted column: the tenant secrets and the signing keys' private keys. */
interface EncryptedRows {
  label: "tenant secrets" | "signing keys";
  /** Up to `limit` rows not under `currentId`, after `after` in key order. */
  next(trx: SystemTransaction, currentId: string, after: string | undefined, limit: number): Promise<{ key: string; ciphertext: string; associatedData: string; describe: string }[]>;
  /** Writes `ciphertext` where the row still holds `expected`; answers whether it did. */
  replace(trx: SystemTransaction, key: string, expected: string, ciphertext: string): Promise<boolean>;
  /** Rows by the master key id they name (`-` for none: a revoked signing key). */
  countByMasterKey(trx: SystemTransaction): Promise<Record<string, number>>;
}

const notUnder = (currentId: string) => `v1.${currentId}.%`;
const SEPARATOR = "\u0000";

const tenantSecretRows: EncryptedRows = {
  label: "tenant secrets",
  async next(trx, currentId, after, limit) {
    let query = trx.selectFrom("tenant_secrets").select(["tenant_id", "name", "ciphertext"]).where("ciphertext", "not like", notUnder(currentId));
    if (after !== undefined) {
      const [tenantId = "", name = ""] = after.split(SEPARATOR);
      query = query.where((eb) => eb.or([eb("tenant_id", ">", tenantId), eb.and([eb("tenant_id", "=", tenantId), eb("name", ">", name)])]));
    }
    const rows = await query.orderBy("tenant_id").orderBy("name").limit(limit).execute();
    return rows.map((row) => ({
      key: `${row.tenant_id}${SEPARATOR}${row.name}`,
      ciphertext: row.ciphertext,
      associatedData: tenantSecretAssociatedData(row.tenant_id, row.name),
      describe: `the secret "${row.name}" of organisation ${row.tenant_id}`,
    }));
  },
  async replace(trx, key, expected, ciphertext) {
    const [tenantId = "", name = ""] = key.split(SEPARATOR);
    const result = await trx
      .updateTable("tenant_secrets")
      .set({ ciphertext })
      .where("tenant_id", "=", tenantId)
      .where("name", "=", name)
      .where("ciphertext", "=", expected)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },
  async countByMasterKey(trx) {
    const rows = await sql<{ id: string; count: string | number }>`
      select split_part(ciphertext, '.', 2) as id, count(*) as count from tenant_secrets group by 1`.execute(trx);
    return Object.fromEntries(rows.rows.map((row) => [row.id, Number(row.count)]));
  },
};

const signingKeyRows: EncryptedRows = {
  label: "signing keys",
  async next(trx, currentId, after, limit) {
    let query = trx.selectFrom("signing_keys").select(["kid", "private_key"]).where("private_key", "is not", null).where("private_key", "not like", notUnder(currentId));
    if (after !== undefined) query = query.where("kid", ">", after);
    const rows = await query.orderBy("kid").limit(limit).execute();
    return rows.map((row) => ({ key: row.kid, ciphertext: row.private_key!, associatedData: signingKeyAssociatedData(row.kid), describe: `signing key ${row.kid}` }));
  },
  async replace(trx, kid, expected, ciphertext) {
    const result = await trx.updateTable("signing_keys").set({ private_key: ciphertext }).where("kid", "=", kid).where("private_key", "=", expected).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },
  async countByMasterKey(trx) {
    const rows = await sql<{ id: string; count: string | number }>`
      select coalesce(split_part(private_key, '.', 2), '-') as id, count(*) as count from signing_keys group by 1`.execute(trx);
    return Object.fromEntries(rows.rows.map((row) => [row.id, Number(row.count)]));
  },
};

const TABLES = [tenantSecretRows, signingKeyRows] as const;

export interface RewrapCounts {
  "tenant secrets": number;
  "signing keys": number;
}

export interface RewrapReport {
  /** The master key everything was re-wrapped under. */
  masterKeyId: string;
  /** Values this run moved to the current key. */
  rewrapped: RewrapCounts;
  /** Values that could not be decrypted with either key (named, never shown), with the reason. */
  unreadable: { what: string; reason: string }[];
  /** Values still under another master key after the run (the unreadable ones, and any a racing writer left). */
  remaining: RewrapCounts;
}

export interface RewrapOptions {
  /** Rows per transaction (default 100). */
  batchSize?: number;
  /** Called after each batch, for progress output. */
  onBatch?: (label: keyof RewrapCounts, rewrapped: number) => void;
}

/** Re-wraps every tenant secret and signing key not under `ring.current`. */
export async function rewrapUnderCurrentKey(system: SystemDatabase, ring: MasterKeyRing, options: RewrapOptions = {}): Promise<RewrapReport> {
  const batchSize = options.batchSize ?? 100;
  const currentId = ring.current.id;
  const rewrapped: RewrapCounts = { "tenant secrets": 0, "signing keys": 0 };
  const unreadable: RewrapReport["unreadable"] = [];
  for (const table of TABLES) {
    let after: string | undefined;
    for (;;) {
      const batch = await withSystem(system, async (trx) => {
        const rows = await table.next(trx, currentId, after, batchSize);
        let moved = 0;
        for (const row of rows) {
          let plaintext: Buffer;
          try {
            plaintext = decryptWithRing(ring, row.ciphertext, row.associatedData);
          } catch (error) {
            if (!(error instanceof SecretDecryptionError)) throw error;
            unreadable.push({ what: row.describe, reason: error.message });
            continue;
          }
          try {
            if (await table.replace(trx, row.key, row.ciphertext, encryptSecret(ring.current, plaintext, row.associatedData))) moved += 1;
          } finally {
            plaintext.fill(0);
          }
        }
        return { count: rows.length, last: rows.at(-1)?.key, moved };
      });
      rewrapped[table.label] += batch.moved;
      if (batch.count > 0) options.onBatch?.(table.label, rewrapped[table.label]);
      if (batch.count < batchSize || batch.last === undefined) break;
      after = batch.last;
    }
  }
  const counts = await countByMasterKey(system);
  const remaining: RewrapCounts = { "tenant secrets": 0, "signing keys": 0 };
  for (const table of TABLES) {
    remaining[table.label] = Object.entries(counts[table.label]).reduce((sum, [id, count]) => sum + (id === currentId || id === "-" ? 0 : count), 0);
  }
  return { masterKeyId: currentId, rewrapped, unreadable, remaining };
}

/** How many values each master key protects, per table (`secrets status`). */
export async function countByMasterKey(system: SystemDatabase): Promise<Record<keyof RewrapCounts, Record<string, number>>> {
  return withSystem(system, async (trx) => ({
    "tenant secrets": await tenantSecretRows.countByMasterKey(trx),
    "signing keys": await signingKeyRows.countByMasterKey(trx),
  }));
}
