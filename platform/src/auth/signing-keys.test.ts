import { PGlite } from "@electric-sql/pglite";
import { decodeProtectedHeader } from "jose";
import { Kysely, Migrator, sql } from "kysely";
import { AppError } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { migrationProvider } from "../db/migrations";
import type { OpenDatabase } from "../db/open-database";
import { PGliteDialect } from "../db/pglite-dialect";
import type { DatabaseSchema } from "../db/schema";
import { withSystem, withTenant } from "../db/scopes";
import { decryptSecret } from "../secrets/envelope";
import { generateMasterKey } from "../secrets/master-key";
import { openTestDatabase } from "../test-support/test-platform";
import type { AccessTokenVerifier } from "./access-token";
import { listSigningKeys, resetSigningKeys, SAFE_TO_REVOKE_AFTER_SECONDS } from "./signing-key-store";
import { createSigningKeyRing, type SigningKeyRing } from "./signing-keys";

const ISSUER = "http://platform.test/auth/v1";
const USER = { id: "11111111-1111-4111-8111-111111111111", email: "ada@example.com" };
const master = generateMasterKey();

let database: OpenDatabase;
let clock: Date;
const now = () => clock;
const rings: SigningKeyRing[] = [];

function ring(options: { masterKey?: typeof master; refreshIntervalMs?: number } = {}): SigningKeyRing {
  const created = createSigningKeyRing({
    system: database.system,
    masterKey: options.masterKey ?? master,
    now,
    logError: (message, error) => console.error(message, error),
    ...(options.refreshIntervalMs ? { refreshIntervalMs: options.refreshIntervalMs } : {}),
  });
  rings.push(created);
  return created;
}

async function sign(keys: SigningKeyRing): Promise<string> {
  return (await keys.issueAccessToken({ user: USER, sessionId: "s1", issuer: ISSUER, now: clock })).token;
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;

async function refused(verify: AccessTokenVerifier, token: string): Promise<AppError> {
  const error = await verify(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

async function statuses(): Promise<Record<string, string>> {
  const rows = await withSystem(database.system, (trx) => trx.selectFrom("signing_keys").select(["kid", "status"]).execute());
  return Object.fromEntries(rows.map((row) => [row.kid, row.status]));
}

describe(`signing keys (${process.env.DATABASE_URL ? "Postgres" : "PGlite"})`, () => {
  // One database for the file (opening one is the slow part); every test starts with no keys.
  beforeAll(async () => {
    database = await openTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    clock = new Date("2025-06-01T12:00:00Z");
    await withSystem(database.system, (trx) => trx.deleteFrom("signing_keys").execute());
  });
  afterEach(() => {
    for (const keys of rings.splice(0)) keys.stop();
  });

  it("creates a current and a standby key on first start, publishes both, and signs ES256 with the current one", async () => {
    const keys = ring();
    await keys.load();
    const stored = await statuses();
    expect(Object.values(stored).sort()).toEqual(["current", "standby"]);
    const current = Object.keys(stored).find((kid) => stored[kid] === "current")!;
    const standby = Object.keys(stored).find((kid) => stored[kid] === "standby")!;

    const token = await sign(keys);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: current, typ: "JWT" });
    expect(await keys.verifier({ issuer: ISSUER })(token)).toEqual({ id: USER.id, email: USER.email, sessionId: "s1" });

    const jwks = keys.jwks();
    expect(jwks.keys.map((key) => key.kid)).toEqual([current, standby]);
    for (const key of jwks.keys) {
      expect(Object.keys(key).sort()).toEqual(["alg", "crv", "key_ops", "kid", "kty", "use", "x", "y"]);
      expect(key).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", key_ops: ["verify"] });
    }

    // A second start changes nothing.
    await ring().load();
    expect(await statuses()).toEqual(stored);
  });

  it("stores private keys encrypted with the master key and bound to their kid", async () => {
    await ring().load();
    const rows = await withSystem(database.system, (trx) => trx.selectFrom("signing_keys").select(["kid", "private_key"]).execute());
    const [a, b] = rows as [{ kid: string; private_key: string }, { kid: string; private_key: string }];
    expect(a.private_key).toMatch(new RegExp(`^v1\\.${master.id}\\.`));
    expect(a.private_key).not.toMatch(/PRIVATE KEY/);
    expect(decryptSecret(master, a.private_key, `signing-key:${a.kid}`).length).toBeGreaterThan(100);
    // Copying another key's private key into this row does not make it this key's.
    expect(() => decryptSecret(master, b.private_key, `signing-key:${a.kid}`)).toThrow(/belongs to another row/);
  });

  it("gives the application role no access to the keys", async () => {
    await ring().load();
    await expect(withTenant(database.db, "", (trx) => trx.selectFrom("signing_keys").select("kid").execute())).rejects.toThrow(/permission denied/);
  });

  it("ends with exactly one current and one standby when several processes start at once", async () => {
    const starting = [ring(), ring(), ring(), ring()];
    await Promise.all(starting.map((keys) => keys.load()));
    expect(Object.values(await statuses()).sort()).toEqual(["current", "standby"]);
    expect(new Set(starting.map((keys) => keys.currentKid())).size).toBe(1);
  });

  it("refuses to start with another master key, saying which key is needed and what to do", async () => {
    await ring().load();
    const other = generateMasterKey();
    const error = await ring({ masterKey: other })
      .load()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`encrypted with master key ${master.id}, not the configured one (${other.id})`);
    expect((error as Error).message).toMatch(/must use the same WORKFORCE_SECRET_KEY.*keys reset/);
  });

  it("rotates: the standby signs, the old key still verifies its tokens, a new standby is published before it signs", async () => {
    const keys = ring();
    await keys.load();
    const verify = keys.verifier({ issuer: ISSUER });
    const before = await sign(keys);
    const [oldCurrent, oldStandby] = keys.jwks().keys.map((key) => key.kid);

    const rotation = await keys.rotate();
    expect(rotation).toMatchObject({ current: oldStandby, previous: oldCurrent });
    expect([oldCurrent, oldStandby]).not.toContain(rotation.standby);

    const after = await sign(keys);
    expect(kidOf(after)).toBe(oldStandby);
    expect((await verify(before)).id).toBe(USER.id);
    expect((await verify(after)).id).toBe(USER.id);
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual([oldStandby, rotation.standby, oldCurrent]);
    expect(await statuses()).toEqual({ [oldCurrent!]: "previous", [oldStandby!]: "current", [rotation.standby]: "standby" });
  });

  it("lets another process verify tokens of a key rotated in elsewhere at once, re-reading at most every 5 s", async () => {
    const here = ring();
    const elsewhere = ring();
    await here.load();
    await elsewhere.load();
    const verifyElsewhere = elsewhere.verifier({ issuer: ISSUER });

    await here.rotate();
    // `elsewhere` has the new current key already (it was the published standby).
    expect((await verifyElsewhere(await sign(here))).id).toBe(USER.id);

    await here.rotate();
    const second = await sign(here);
    clock = new Date(clock.getTime() + 5_000);
    expect((await verifyElsewhere(second)).id).toBe(USER.id);

    // A kid unknown after a re-read moments ago is refused without asking the database again...
    await here.rotate();
    await here.rotate();
    const fourth = await sign(here);
    clock = new Date(clock.getTime() + 1_000);
    expect((await refused(verifyElsewhere, fourth)).message).toMatch(/unknown or revoked/);
    // ...and looked up again once 5 s have passed.
    clock = new Date(clock.getTime() + 5_000);
    expect((await verifyElsewhere(fourth)).id).toBe(USER.id);
    // Its own signing follows the refresh too.
    expect(kidOf(await sign(elsewhere))).toBe(kidOf(fourth));
  });

  it("re-reads the keys periodically once started, so a rotation elsewhere is used without a restart", async () => {
    const here = ring();
    const elsewhere = ring({ refreshIntervalMs: 20 });
    await here.load();
    await elsewhere.load();
    elsewhere.start();
    const rotation = await here.rotate();
    await vi.waitFor(() => expect(elsewhere.currentKid()).toBe(rotation.current), { timeout: 5_000, interval: 20 });
    expect(elsewhere.jwks().keys.map((key) => key.kid)).toContain(rotation.standby);
    elsewhere.stop();
  });

  it("revokes a previous key: its tokens are refused at once here and after a refresh elsewhere, and its private key is erased", async () => {
    const keys = ring();
    const elsewhere = ring();
    await keys.load();
    await elsewhere.load();
    const old = await sign(keys);
    const oldKid = kidOf(old)!;
    await keys.rotate();
    await elsewhere.refresh();
    expect((await elsewhere.verifier({ issuer: ISSUER })(old)).id).toBe(USER.id);

    const revocation = await keys.revoke(oldKid);
    expect(revocation).toMatchObject({ kid: oldKid, was: "previous", newStandby: undefined });
    expect((await refused(keys.verifier({ issuer: ISSUER }), old)).message).toMatch(/unknown or revoked/);
    await elsewhere.refresh();
    expect((await refused(elsewhere.verifier({ issuer: ISSUER }), old)).status).toBe(401);
    expect(keys.jwks().keys.map((key) => key.kid)).not.toContain(oldKid);

    const row = await withSystem(database.system, (trx) => trx.selectFrom("signing_keys").selectAll().where("kid", "=", oldKid).executeTakeFirstOrThrow());
    expect(row).toMatchObject({ status: "revoked", private_key: null, revoked_at: clock });
    expect((await keys.revoke(oldKid)).was).toBe("revoked");
  });

  it("refuses to revoke the current key or one that does not exist, and replaces a revoked standby", async () => {
    const keys = ring();
    await keys.load();
    const [current, standby] = keys.jwks().keys.map((key) => key.kid) as [string, string];
    await expect(keys.revoke(current)).rejects.toThrow(`${current} is the current signing key and cannot be revoked: run \`npm run workforce -- keys rotate\` first`);
    await expect(keys.revoke("no-such-kid")).rejects.toThrow(/there is no signing key no-such-kid/);
    const revocation = await keys.revoke(standby);
    expect(revocation.was).toBe("standby");
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual([current, revocation.newStandby]);
  });

  it("lists previous keys as safe to revoke once tokens they signed have expired", async () => {
    const keys = ring();
    await keys.load();
    const { previous } = await keys.rotate();
    const entry = async () => (await listSigningKeys(database.system, clock)).find((key) => key.kid === previous)!;
    expect(await entry()).toMatchObject({ status: "previous", safeToRevoke: false, retiredAt: clock });
    clock = new Date(clock.getTime() + SAFE_TO_REVOKE_AFTER_SECONDS * 1000);
    expect((await entry()).safeToRevoke).toBe(true);
    expect((await listSigningKeys(database.system, clock)).filter((key) => key.safeToRevoke).map((key) => key.kid)).toEqual([previous]);
  });

  it("recovers from a lost master key by resetting: every old key revoked, new ones readable with the new master key", async () => {
    const keys = ring();
    await keys.load();
    const old = await sign(keys);
    const replacement = generateMasterKey();
    await expect(ring({ masterKey: replacement }).load()).rejects.toThrow(/keys reset/);

    const reset = await resetSigningKeys(database.system, replacement, clock);
    expect(reset.revoked.sort()).toEqual(keys.jwks().keys.map((key) => key.kid).sort());
    const restarted = ring({ masterKey: replacement });
    await restarted.load();
    expect(restarted.currentKid()).toBe(reset.current);
    expect((await refused(restarted.verifier({ issuer: ISSUER }), old)).status).toBe(401);
    expect((await restarted.verifier({ issuer: ISSUER })(await sign(restarted))).id).toBe(USER.id);
  });

  it("refuses to rotate with a master key that cannot read the standby key", async () => {
    await ring().load();
    const before = await statuses();
    await expect(ring({ masterKey: generateMasterKey() }).rotate()).rejects.toThrow(/not the configured one/);
    expect(await statuses()).toEqual(before);
  });
});

describe("migration 006", () => {
  let pglite: PGlite | undefined;
  afterAll(async () => {
    await pglite?.close();
  });

  it("deletes the plain-text HS256 secret the old platform stored", async () => {
    pglite = await PGlite.create("memory://");
    const kysely = new Kysely<DatabaseSchema>({ dialect: new PGliteDialect(pglite) });
    const migrator = new Migrator({ db: kysely, provider: migrationProvider });
    expect((await migrator.migrateTo("004-forced-rls-and-system-role")).error).toBeUndefined();
    await sql`insert into settings (key, value) values ('jwt_secret', 'plain-text'), ('other', 'kept')`.execute(kysely);
    expect((await migrator.migrateToLatest()).error).toBeUndefined();
    const rows = await sql<{ key: string }>`select key from settings order by key`.execute(kysely);
    expect(rows.rows).toEqual([{ key: "other" }]);
    await kysely.destroy();
  });
});
