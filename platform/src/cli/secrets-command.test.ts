/**
 * `npm run workforce -- secrets rotate-master-key` end to end on a PGlite directory, as an
 * operator runs it between platform starts: with WORKFORCE_SECRET_KEY (+ _PREVIOUS) and with the
 * key file of `npm start`. After a rotation the secrets and signing keys read with the new key
 * alone and no longer with the old one; a second run changes nothing; an interrupted file-mode
 * rotation is finished without making yet another key.
 */
import { randomBytes } from "node:crypto";
import { link, mkdtemp, readdir, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AppError } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigningKeyRing } from "../auth/signing-keys";
import { openDatabase, type OpenDatabase } from "../db/open-database";
import { withSystem, withTenant } from "../db/scopes";
import { beginKeyFileRotation } from "../secrets/master-key-file-rotation";
import { loadMasterKey, masterKeyFromBytes, type MasterKey } from "../secrets/master-key";
import type { MasterKeyRing } from "../secrets/master-key-ring";
import { rewrapUnderCurrentKey } from "../secrets/master-key-rotation";
import { createTenantSecrets } from "../secrets/tenant-secrets";
import type { CliContext } from "./cli-command";
import { runCli } from "./run-cli";
import { secretsCommand } from "./secrets-command";

const templateDir = fileURLToPath(new URL("../../dist/pglite-template", import.meta.url));
const SECRETS = { "model-key/anthropic": "sk-ant-recognisable-value-1111", "mcp/s1/headers": '{"x-api-key":"recognisable-2222"}', "webhook/github": "whsec-recognisable-3333" };

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "workforce-secrets-cli-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** A platform start and stop on the directory: open the database, do something with these keys, close it. */
async function asPlatform<T>(dataDir: string, fn: (database: OpenDatabase) => Promise<T>): Promise<T> {
  const database = await openDatabase({ pgliteDataDir: dataDir, pgliteTemplateDir: templateDir });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

/** Stores SECRETS for two organisations and creates the signing keys, as a running platform with `key` would. */
async function seed(dataDir: string, key: MasterKey): Promise<string[]> {
  return asPlatform(dataDir, async (database) => {
    const tenants = (await withSystem(database.system, (trx) => trx.insertInto("tenants").values([{ name: "A" }, { name: "B" }]).returning("id").execute())).map((row) => row.id);
    const store = createTenantSecrets({ keys: { current: key }, now: () => new Date() });
    for (const tenantId of tenants) {
      await withTenant(database.db, tenantId, async (trx) => {
        for (const [name, value] of Object.entries(SECRETS)) await store.put(trx, tenantId, { name, kind: name.startsWith("mcp") ? "mcp-headers" : name.startsWith("model") ? "model-key" : "webhook", value });
      });
    }
    await createSigningKeyRing({ system: database.system, masterKey: key, now: () => new Date(), logError: (message, error) => console.error(message, error) }).load();
    return tenants;
  });
}

/** Every secret of every organisation, read with `keys`; and whether the signing keys load. */
async function readEverything(dataDir: string, tenants: string[], keys: MasterKeyRing): Promise<{ values: string[]; signingKeys: string }> {
  return asPlatform(dataDir, async (database) => {
    const store = createTenantSecrets({ keys, now: () => new Date() });
    const values: string[] = [];
    for (const tenantId of tenants) {
      for (const name of Object.keys(SECRETS)) {
        values.push(await withTenant(database.db, tenantId, (trx) => store.reveal(trx, tenantId, name)).then(String, (error: unknown) => (error instanceof AppError ? error.code : String(error))));
      }
    }
    const ring = createSigningKeyRing({ system: database.system, masterKey: keys.current, previousMasterKey: keys.previous, now: () => new Date(), logError: () => {} });
    const signingKeys = await ring.load().then(() => "ok" as const, (error: unknown) => (error instanceof Error ? error.message : String(error)));
    return { values, signingKeys };
  });
}

const ciphertexts = (dataDir: string) =>
  asPlatform(dataDir, (database) =>
    withSystem(database.system, async (trx) => [
      ...(await trx.selectFrom("tenant_secrets").select("ciphertext").orderBy("tenant_id").orderBy("name").execute()).map((row) => row.ciphertext),
      ...(await trx.selectFrom("signing_keys").select("private_key").orderBy("kid").execute()).map((row) => row.private_key),
    ]),
  );

async function workforce(env: Record<string, string>, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const context: CliContext = { env, homeDir: tmp, now: () => new Date(), out: (line) => out.push(line), err: (line) => err.push(line) };
  const code = await runCli(argv, context, [secretsCommand]);
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

const allValues = (count: number) => Array.from({ length: count }, () => Object.values(SECRETS)).flat();

describe("secrets rotate-master-key with WORKFORCE_SECRET_KEY and WORKFORCE_SECRET_KEY_PREVIOUS", { timeout: 120_000 }, () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const old = masterKeyFromBytes(oldKey);
  const fresh = masterKeyFromBytes(newKey);
  let dataDir: string;
  let tenants: string[];
  let env: Record<string, string>;

  beforeAll(async () => {
    dataDir = path.join(tmp, "env-db");
    tenants = await seed(dataDir, old);
    env = { PGLITE_DATA_DIR: dataDir, WORKFORCE_SECRET_KEY: newKey.toString("base64"), WORKFORCE_SECRET_KEY_PREVIOUS: oldKey.toString("base64") };
  });

  it("shows which master key protects how many values, before and after", async () => {
    const before = await workforce(env, "secrets", "status");
    expect(before.code).toBe(0);
    expect(before.stdout).toContain(`tenant secrets:\n  master key ${old.id} (previous): 6`);
    expect(before.stdout).toContain(`signing keys:\n  master key ${old.id} (previous): 2`);
    expect(before.stdout).toContain("Some values are not under the current master key");
  });

  it("re-wraps every tenant secret and signing key, after which only the new key reads them", async () => {
    // During the rotation the platform reads everything with both keys.
    expect(await readEverything(dataDir, tenants, { current: fresh, previous: old })).toEqual({ values: allValues(2), signingKeys: "ok" });
    const result = await workforce(env, "secrets", "rotate-master-key");
    expect(result.stderr).toContain("workforce: 6 tenant secrets re-wrapped so far");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Re-wrapped under master key ${fresh.id}: 6 tenant secret(s), 2 signing key(s).\n` +
        "Every value is under the new key: remove WORKFORCE_SECRET_KEY_PREVIOUS from every platform process and restart them.",
    );
    expect(`${result.stdout}${result.stderr}`).not.toContain("recognisable");

    expect(await readEverything(dataDir, tenants, { current: fresh })).toEqual({ values: allValues(2), signingKeys: "ok" });
    const withOldOnly = await readEverything(dataDir, tenants, { current: old });
    expect(withOldOnly.values).toEqual(Array.from({ length: 6 }, () => "secret_unreadable"));
    expect(withOldOnly.signingKeys).toMatch(new RegExp(`encrypted with master key ${fresh.id}, not the configured one \\(${old.id}\\)`));
    expect((await workforce({ PGLITE_DATA_DIR: dataDir, WORKFORCE_SECRET_KEY: newKey.toString("base64") }, "secrets", "status")).stdout).toContain(
      `Every value is under the current master key ${fresh.id}.`,
    );
  });

  it("changes nothing when run again", async () => {
    const before = await ciphertexts(dataDir);
    const again = await workforce(env, "secrets", "rotate-master-key");
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`Nothing to re-wrap: every value is under master key ${fresh.id}.`);
    expect(await ciphertexts(dataDir)).toEqual(before);
    // Without the previous key too: the old key is no longer needed.
    const without = await workforce({ PGLITE_DATA_DIR: dataDir, WORKFORCE_SECRET_KEY: newKey.toString("base64") }, "secrets", "rotate-master-key");
    expect(without).toMatchObject({ code: 0, stdout: `Nothing to re-wrap: every value is under master key ${fresh.id}.` });
  });

  it("refuses to finish while a value is under a key it was not given, naming the value but never showing it", async () => {
    const stray = masterKeyFromBytes(randomBytes(32));
    await asPlatform(dataDir, (database) =>
      withTenant(database.db, tenants[0]!, (trx) =>
        createTenantSecrets({ keys: { current: stray }, now: () => new Date() }).put(trx, tenants[0]!, { name: "model-key/openai", kind: "model-key", value: "sk-stray-recognisable-4444" }),
      ),
    );
    const result = await workforce(env, "secrets", "rotate-master-key");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`workforce: cannot re-wrap the secret "model-key/openai" of organisation ${tenants[0]}: this value was encrypted with master key ${stray.id}`);
    expect(result.stderr).toContain("workforce: 1 value(s) could not be decrypted with the configured master keys: set WORKFORCE_SECRET_KEY_PREVIOUS to the key they name");
    expect(`${result.stdout}${result.stderr}`).not.toContain("recognisable");
    await asPlatform(dataDir, (database) => withSystem(database.system, (trx) => trx.deleteFrom("tenant_secrets").where("name", "=", "model-key/openai").execute()));
  });
});

describe("rewrapUnderCurrentKey in batches", () => {
  it("moves every row whatever the batch size, in key order, and skips none", async () => {
    const dataDir = path.join(tmp, "batch-db");
    const old = masterKeyFromBytes(randomBytes(32));
    const fresh = masterKeyFromBytes(randomBytes(32));
    const tenants = await seed(dataDir, old);
    const batches: number[] = [];
    const report = await asPlatform(dataDir, (database) =>
      rewrapUnderCurrentKey(database.system, { current: fresh, previous: old }, { batchSize: 2, onBatch: (label, count) => label === "tenant secrets" && batches.push(count) }),
    );
    expect(batches).toEqual([2, 4, 6]);
    expect(report).toEqual({ masterKeyId: fresh.id, rewrapped: { "tenant secrets": 6, "signing keys": 2 }, unreadable: [], remaining: { "tenant secrets": 0, "signing keys": 0 } });
    expect((await readEverything(dataDir, tenants, { current: fresh })).values).toEqual(allValues(2));
  });
});

describe("secrets rotate-master-key with the key file of npm start", { timeout: 120_000 }, () => {
  let dataDir: string;
  let keyFile: string;
  let tenants: string[];
  let env: Record<string, string>;
  let first: MasterKey;

  beforeAll(async () => {
    dataDir = path.join(tmp, "file-db");
    keyFile = path.join(tmp, "keys", "secret.key");
    env = { PGLITE_DATA_DIR: dataDir, WORKFORCE_SECRET_KEY_FILE: keyFile };
    first = (await loadMasterKey({ source: "file", path: keyFile })).masterKey;
    tenants = await seed(dataDir, first);
  });

  it("makes a new key file, re-wraps everything under it, and removes the old key", async () => {
    const result = await workforce(env, "secrets", "rotate-master-key");
    expect(result.code).toBe(0);
    const second = (await loadMasterKey({ source: "file", path: keyFile }, { create: false })).masterKey;
    expect(second.id).not.toBe(first.id);
    expect(result.stdout).toContain(`Made a new master key ${second.id} in ${keyFile}; the old one (${first.id}) is kept in ${keyFile}.previous until every value is re-wrapped.`);
    expect(result.stdout).toContain(`Re-wrapped under master key ${second.id}: 6 tenant secret(s), 2 signing key(s).`);
    expect(result.stdout).toContain(`Removed the old master key. Back up ${keyFile} now`);
    expect((await readdir(path.dirname(keyFile))).sort()).toEqual(["secret.key"]);
    if (process.platform !== "win32") expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(await readEverything(dataDir, tenants, { current: second })).toEqual({ values: allValues(2), signingKeys: "ok" });
    expect((await readEverything(dataDir, tenants, { current: first })).values).toEqual(Array.from({ length: 6 }, () => "secret_unreadable"));
  });

  it("finishes a rotation interrupted before the re-wrap, without making another key; the platform reads both meanwhile", async () => {
    const before = (await loadMasterKey({ source: "file", path: keyFile }, { create: false })).masterKey;
    const begun = await beginKeyFileRotation(keyFile);
    expect(begun).toMatchObject({ resumed: false, previous: { id: before.id } });
    // The platform starting now gets both keys and a warning to finish.
    const loaded = await loadMasterKey({ source: "file", path: keyFile }, { create: false });
    expect(loaded.masterKey.id).toBe(begun.current.id);
    expect(loaded.previous?.id).toBe(before.id);
    expect(loaded.warnings).toEqual([expect.stringContaining("a master-key rotation has not finished")]);
    expect(await readEverything(dataDir, tenants, { current: loaded.masterKey, previous: loaded.previous })).toEqual({ values: allValues(2), signingKeys: "ok" });

    const result = await workforce(env, "secrets", "rotate-master-key");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Finishing an interrupted rotation from master key ${before.id} to ${begun.current.id}`);
    expect((await loadMasterKey({ source: "file", path: keyFile }, { create: false })).masterKey.id).toBe(begun.current.id);
    expect((await readdir(path.dirname(keyFile))).sort()).toEqual(["secret.key"]);
    expect((await readEverything(dataDir, tenants, { current: begun.current })).values).toEqual(allValues(2));
  });

  it("makes the new key when an earlier run stopped between keeping the old key and writing the new one", async () => {
    const before = (await loadMasterKey({ source: "file", path: keyFile }, { create: false })).masterKey;
    await link(keyFile, `${keyFile}.previous`);
    const result = await workforce(env, "secrets", "rotate-master-key");
    expect(result.code).toBe(0);
    const after = (await loadMasterKey({ source: "file", path: keyFile }, { create: false })).masterKey;
    expect(after.id).not.toBe(before.id);
    expect(result.stdout).toContain(`Made a new master key ${after.id}`);
    expect((await readEverything(dataDir, tenants, { current: after })).values).toEqual(allValues(2));
  });

  it("refuses while the platform has the embedded database open, before touching the key", async () => {
    const before = (await loadMasterKey({ source: "file", path: keyFile }, { create: false })).masterKey;
    await asPlatform(dataDir, async () => {
      const result = await workforce(env, "secrets", "rotate-master-key");
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("Stop Workforce first");
    });
    expect((await loadMasterKey({ source: "file", path: keyFile }, { create: false })).masterKey.id).toBe(before.id);
  });
});

describe("the secrets command's arguments", () => {
  it.each([
    [["secrets"], /secrets needs a subcommand/],
    [["secrets", "spin"], /unknown subcommand "secrets spin"/],
    [["secrets", "status", "extra"], /takes no arguments/],
  ])("exits 1 with a readable message for %j", async (argv, message) => {
    const result = await workforce({}, ...argv);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it("refuses WORKFORCE_SECRET_KEY_PREVIOUS without WORKFORCE_SECRET_KEY", async () => {
    const result = await workforce({ WORKFORCE_SECRET_KEY_PREVIOUS: randomBytes(32).toString("base64") }, "secrets", "rotate-master-key");
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/WORKFORCE_SECRET_KEY_PREVIOUS: is set without WORKFORCE_SECRET_KEY/);
  });
});
