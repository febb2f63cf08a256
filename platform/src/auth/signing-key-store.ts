import { createPrivateKey, createPublicKey, generateKeyPair as generateKeyPairCallback, randomUUID, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { sql } from "kysely";
import { z } from "zod";
import type { SigningKeyStatus, SystemDatabase, SystemTransaction } from "../db/schema";
import { withSystem } from "../db/scopes";
import { encryptSecret, SecretDecryptionError } from "../secrets/envelope";
import type { MasterKey } from "../secrets/master-key";
import { decryptWithRing, type MasterKeyRing } from "../secrets/master-key-ring";
import { ACCESS_TOKEN_TTL_SECONDS } from "./access-token";

/**
 * The signing_keys table (decision 011): creating, rotating and revoking keys, Supabase's way.
 * A key is created as `standby` (published in the JWKS but signing nothing), becomes `current`
 * (signs every new token), then `previous` (verifies the tokens it signed until they expire), and
 * finally `revoked` (refused, private key erased). Every change runs in one transaction holding a
 * lock on the table, so processes racing to create or rotate end with one current and one standby.
 */

const generateKeyPair = promisify(generateKeyPairCallback);

/** A previous key may be revoked without refusing live tokens once it has been retired this long. */
export const SAFE_TO_REVOKE_AFTER_SECONDS = ACCESS_TOKEN_TTL_SECONDS + 5 * 60;

/** Why a key operation was refused; the message says what to do. */
export class SigningKeyError extends Error {
  override name = "SigningKeyError";
}

export const PublicJwk = z.object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: z.string().min(1), y: z.string().min(1) });
export type PublicJwk = z.infer<typeof PublicJwk>;

/** What `keys list` shows: no key material. */
export interface SigningKeyInfo {
  kid: string;
  status: SigningKeyStatus;
  createdAt: Date;
  activatedAt: Date | null;
  retiredAt: Date | null;
  revokedAt: Date | null;
  /** A previous key retired longer ago than an access token lives: revoking it refuses no live token. */
  safeToRevoke: boolean;
}

/** A key that verifies tokens; `encryptedPrivateKey` is read for the current key only. */
export interface ActiveSigningKey {
  kid: string;
  status: Exclude<SigningKeyStatus, "revoked">;
  publicJwk: PublicJwk;
  encryptedPrivateKey: string | undefined;
}

/** The associated data binding an encrypted private key to its kid (master-key rotation re-wraps with it too). */
export const signingKeyAssociatedData = (kid: string) => `signing-key:${kid}`;
const associatedData = signingKeyAssociatedData;

/**
 * Decrypts a key's PKCS#8 private key. A wrong master key gets the fix spelled out: it is the
 * usual mistake when several processes each generated their own key file.
 */
export function decryptPrivateKey(keys: MasterKey | MasterKeyRing, kid: string, encrypted: string): KeyObject {
  const ring = "current" in keys ? keys : { current: keys };
  try {
    return createPrivateKey({ key: decryptWithRing(ring, encrypted, associatedData(kid)), format: "der", type: "pkcs8" });
  } catch (error) {
    if (error instanceof SecretDecryptionError && error.reason === "wrong_master_key") {
      throw new SigningKeyError(
        `cannot read signing key ${kid}: ${error.message}. Every platform process (and \`npm run workforce\`) must use the same ` +
          "WORKFORCE_SECRET_KEY; if that key is lost, `npm run workforce -- keys reset` replaces the signing keys (everyone signs in again)",
      );
    }
    throw new SigningKeyError(`cannot read signing key ${kid}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function insertNewKey(trx: SystemTransaction, masterKey: MasterKey, status: "standby" | "current", now: Date): Promise<string> {
  const kid = randomUUID();
  const { publicKey, privateKey } = await generateKeyPair("ec", { namedCurve: "P-256" });
  const jwk = PublicJwk.parse(publicKey.export({ format: "jwk" }));
  const pkcs8 = privateKey.export({ format: "der", type: "pkcs8" });
  await trx
    .insertInto("signing_keys")
    .values({
      kid,
      public_jwk: JSON.stringify(jwk),
      private_key: encryptSecret(masterKey, pkcs8, associatedData(kid)),
      status,
      created_at: now,
      activated_at: status === "current" ? now : null,
    })
    .execute();
  pkcs8.fill(0);
  return kid;
}

/** Serialises key changes across processes; plain reads (the refresh, the JWKS) are not blocked. */
async function lockKeys(trx: SystemTransaction): Promise<void> {
  await sql`lock table signing_keys in share row exclusive mode`.execute(trx);
}

async function keyWithStatus(trx: SystemTransaction, status: SigningKeyStatus) {
  return trx.selectFrom("signing_keys").select(["kid", "private_key"]).where("status", "=", status).executeTakeFirst();
}

/**
 * Makes sure a current and a standby key exist (the first start creates both); returns the kids
 * it created. Cheap when they exist: the lock is taken only when something is missing.
 */
export async function ensureSigningKeys(system: SystemDatabase, masterKey: MasterKey, now: Date): Promise<string[]> {
  return withSystem(system, async (trx) => {
    const statuses = async () => new Set((await trx.selectFrom("signing_keys").select("status").where("status", "in", ["current", "standby"]).execute()).map((row) => row.status));
    if ((await statuses()).size === 2) return [];
    await lockKeys(trx);
    const present = await statuses();
    const created: string[] = [];
    let needStandby = !present.has("standby");
    if (!present.has("current")) {
      // A standby without a current (a hand-edited table) is promoted: it is already published.
      const standby = await keyWithStatus(trx, "standby");
      if (standby) {
        await trx.updateTable("signing_keys").set({ status: "current", activated_at: now }).where("kid", "=", standby.kid).execute();
        needStandby = true;
      } else {
        created.push(await insertNewKey(trx, masterKey, "current", now));
      }
    }
    if (needStandby) created.push(await insertNewKey(trx, masterKey, "standby", now));
    return created;
  });
}

/** The keys that verify tokens (current, standby, previous), the current one with its encrypted private key. */
export async function readActiveSigningKeys(system: SystemDatabase): Promise<ActiveSigningKey[]> {
  const rows = await withSystem(system, (trx) =>
    trx
      .selectFrom("signing_keys")
      .select(["kid", "status", "public_jwk", "private_key"])
      .where("status", "in", ["current", "standby", "previous"])
      .orderBy("created_at", "desc")
      .execute(),
  );
  return rows.map((row) => ({
    kid: row.kid,
    status: row.status as ActiveSigningKey["status"],
    publicJwk: PublicJwk.parse(row.public_jwk),
    encryptedPrivateKey: row.status === "current" ? (row.private_key ?? undefined) : undefined,
  }));
}

const STATUS_ORDER: SigningKeyStatus[] = ["current", "standby", "previous", "revoked"];

/** Every key for `keys list`: current, standby, then previous and revoked ones, most recently retired first. */
export async function listSigningKeys(system: SystemDatabase, now: Date): Promise<SigningKeyInfo[]> {
  const rows = await withSystem(system, (trx) =>
    trx
      .selectFrom("signing_keys")
      .select(["kid", "status", "created_at", "activated_at", "retired_at", "revoked_at"])
      .orderBy("retired_at", (order) => order.desc().nullsFirst())
      .orderBy("created_at", "desc")
      .execute(),
  );
  rows.sort((a, b) => STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status));
  const safeBefore = now.getTime() - SAFE_TO_REVOKE_AFTER_SECONDS * 1000;
  return rows.map((row) => ({
    kid: row.kid,
    status: row.status,
    createdAt: row.created_at,
    activatedAt: row.activated_at,
    retiredAt: row.retired_at,
    revokedAt: row.revoked_at,
    safeToRevoke: row.status === "previous" && row.retired_at !== null && row.retired_at.getTime() <= safeBefore,
  }));
}

export interface Rotation {
  /** The former standby, now signing. */
  current: string;
  /** The former current, still verifying; undefined on a table that had none. */
  previous: string | undefined;
  /** The new standby, published before it ever signs. */
  standby: string;
}

/**
 * Promotes the standby key to current, moves the current key to previous and creates a new
 * standby. Refuses when the configured master key cannot read the standby key, which would leave
 * every process unable to sign after the rotation.
 */
export async function rotateSigningKeys(system: SystemDatabase, masterKey: MasterKey, now: Date): Promise<Rotation> {
  return withSystem(system, async (trx) => {
    await lockKeys(trx);
    const current = await keyWithStatus(trx, "current");
    const standby = await keyWithStatus(trx, "standby");
    if (standby?.private_key) decryptPrivateKey(masterKey, standby.kid, standby.private_key);
    else if (current?.private_key) decryptPrivateKey(masterKey, current.kid, current.private_key);
    if (current) await trx.updateTable("signing_keys").set({ status: "previous", retired_at: now }).where("kid", "=", current.kid).execute();
    let next: string;
    if (standby) {
      await trx.updateTable("signing_keys").set({ status: "current", activated_at: now }).where("kid", "=", standby.kid).execute();
      next = standby.kid;
    } else {
      next = await insertNewKey(trx, masterKey, "current", now);
    }
    return { current: next, previous: current?.kid, standby: await insertNewKey(trx, masterKey, "standby", now) };
  });
}

export interface Revocation {
  kid: string;
  /** The status the key had: `revoked` when it already was (nothing changed). */
  was: SigningKeyStatus;
  /** When it was retired (a previous key), to tell whether live tokens are refused. */
  retiredAt: Date | null;
  /** The standby created in place of a revoked standby. */
  newStandby: string | undefined;
}

/**
 * Revokes a previous (or standby) key: tokens it signed are refused from the next key refresh
 * on, and its private key is erased. The current key cannot be revoked: rotate first.
 */
export async function revokeSigningKey(system: SystemDatabase, masterKey: MasterKey, kid: string, now: Date): Promise<Revocation> {
  return withSystem(system, async (trx) => {
    await lockKeys(trx);
    const row = await trx.selectFrom("signing_keys").select(["status", "retired_at"]).where("kid", "=", kid).executeTakeFirst();
    if (!row) throw new SigningKeyError(`there is no signing key ${kid}; \`npm run workforce -- keys list\` shows them`);
    if (row.status === "current") {
      throw new SigningKeyError(
        `${kid} is the current signing key and cannot be revoked: run \`npm run workforce -- keys rotate\` first, then revoke it (at once if it leaked, or after an hour, when the tokens it signed have expired)`,
      );
    }
    if (row.status === "revoked") return { kid, was: "revoked", retiredAt: row.retired_at, newStandby: undefined };
    await trx.updateTable("signing_keys").set({ status: "revoked", revoked_at: now, private_key: null }).where("kid", "=", kid).execute();
    const newStandby = row.status === "standby" ? await insertNewKey(trx, masterKey, "standby", now) : undefined;
    return { kid, was: row.status, retiredAt: row.retired_at, newStandby };
  });
}

/**
 * Revokes every key and starts over with a new current and standby: the way back when the
 * master key is lost (the old private keys cannot be read) or every key must be presumed leaked.
 * Every access token is refused at once; refresh tokens still work, so clients get new ones.
 */
export async function resetSigningKeys(system: SystemDatabase, masterKey: MasterKey, now: Date): Promise<{ revoked: string[]; current: string; standby: string }> {
  return withSystem(system, async (trx) => {
    await lockKeys(trx);
    const revoked = await trx
      .updateTable("signing_keys")
      .set({ status: "revoked", revoked_at: now, private_key: null, retired_at: sql<Date>`coalesce(retired_at, ${now})` })
      .where("status", "!=", "revoked")
      .returning("kid")
      .execute();
    const current = await insertNewKey(trx, masterKey, "current", now);
    const standby = await insertNewKey(trx, masterKey, "standby", now);
    return { revoked: revoked.map((row) => row.kid), current, standby };
  });
}

/** The public key object of a stored JWK. */
export function publicKeyFromJwk(jwk: PublicJwk): KeyObject {
  return createPublicKey({ key: jwk, format: "jwk" });
}
