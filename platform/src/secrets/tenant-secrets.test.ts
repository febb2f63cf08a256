/**
 * The tenant secret store against a real migrated database: what an organisation stores it gets
 * back (and nobody else does), lists show names and hints but never values, every change is
 * audited, and a stored value moved to another name or organisation does not decrypt.
 */
import { AppError } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { withSystem, withTenant } from "../db/scopes";
import { openTestDatabase } from "../test-support/test-platform";
import { generateMasterKey } from "./master-key";
import { createTenantSecrets, secretHint, tenantSecretAssociatedData, type TenantSecrets } from "./tenant-secrets";

const master = generateMasterKey();
const VALUE = "sk-ant-api03-recognisable-VALUE-wxyz";
let clock = new Date("2026-12-01T10:00:00.000Z");
const secrets = createTenantSecrets({ keys: { current: master }, now: () => clock });

let database: OpenDatabase;
let tenantA: string;
let tenantB: string;
let userA: string;

beforeAll(async () => {
  database = await openTestDatabase();
  await withSystem(database.system, async (trx) => {
    [tenantA, tenantB] = (await trx.insertInto("tenants").values([{ name: "A" }, { name: "B" }]).returning("id").execute()).map((row) => row.id) as [string, string];
    userA = (await trx.insertInto("users").values({ email: "ada@example.com", password_hash: "x" }).returning("id").executeTakeFirstOrThrow()).id;
  });
});
afterAll(async () => {
  await database.close();
});

const inA = <T>(fn: (trx: Parameters<Parameters<typeof withTenant>[2]>[0]) => Promise<T>) => withTenant(database.db, tenantA, fn);
const inB = <T>(fn: (trx: Parameters<Parameters<typeof withTenant>[2]>[0]) => Promise<T>) => withTenant(database.db, tenantB, fn);
const storedRow = (tenantId: string, name: string) =>
  withSystem(database.system, (trx) => trx.selectFrom("tenant_secrets").selectAll().where("tenant_id", "=", tenantId).where("name", "=", name).executeTakeFirst());
const auditOf = (tenantId: string, target: string) =>
  withSystem(database.system, (trx) =>
    trx.selectFrom("audit_log").select(["action", "target", "actor_user_id", "details"]).where("tenant_id", "=", tenantId).where("target", "=", target).orderBy("seq").execute(),
  );

async function unreadable(store: TenantSecrets, tenantId: string, name: string): Promise<AppError> {
  const error = await withTenant(database.db, tenantId, (trx) => store.reveal(trx, tenantId, name)).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(AppError);
  expect((error as AppError).code).toBe("secret_unreadable");
  expect((error as AppError).status).toBe(500);
  return error as AppError;
}

describe("the tenant secret store", () => {
  it("gives back what was stored, keeps only ciphertext in the table, and answers a summary with a hint", async () => {
    const summary = await inA((trx) => secrets.put(trx, tenantA, { name: "model-key/anthropic", kind: "model-key", value: VALUE, userId: userA }));
    expect(summary).toEqual({
      name: "model-key/anthropic",
      kind: "model-key",
      hint: "…wxyz",
      createdAt: "2026-12-01T10:00:00.000Z",
      updatedAt: "2026-12-01T10:00:00.000Z",
      updatedBy: userA,
    });
    expect(await inA((trx) => secrets.reveal(trx, tenantA, "model-key/anthropic"))).toBe(VALUE);
    expect(await inA((trx) => secrets.reveal(trx, tenantA, "model-key/openai"))).toBeUndefined();
    const row = await storedRow(tenantA, "model-key/anthropic");
    expect(row?.ciphertext).toMatch(new RegExp(`^v1\\.${master.id}\\.`));
    expect(JSON.stringify(row)).not.toContain("recognisable");
  });

  it("replaces a value in place: new value, hint and kind, same creation time, the new author", async () => {
    clock = new Date("2026-12-01T11:00:00.000Z");
    const before = await storedRow(tenantA, "model-key/anthropic");
    const summary = await inA((trx) => secrets.put(trx, tenantA, { name: "model-key/anthropic", kind: "model-key", value: "short-key" }));
    expect(summary).toMatchObject({ hint: "set", createdAt: "2026-12-01T10:00:00.000Z", updatedAt: "2026-12-01T11:00:00.000Z", updatedBy: null });
    expect(await inA((trx) => secrets.reveal(trx, tenantA, "model-key/anthropic"))).toBe("short-key");
    expect((await storedRow(tenantA, "model-key/anthropic"))?.ciphertext).not.toBe(before?.ciphertext);
    expect(await inA((trx) => secrets.list(trx, tenantA))).toHaveLength(1);
  });

  it("hints at the last 4 characters only of values of 12 characters or more", () => {
    expect(secretHint("abcdefghijk")).toBe("set");
    expect(secretHint("abcdefghijkl")).toBe("…ijkl");
    expect(secretHint("x")).toBe("set");
    // Characters, not UTF-16 halves: an emoji at the end is shown whole.
    expect(secretHint("abcdefghijk🔑")).toBe("…ijk🔑");
  });

  it("lists names, kinds, hints and dates, never a value", async () => {
    await inA(async (trx) => {
      await secrets.put(trx, tenantA, { name: "mcp/server-1/headers", kind: "mcp-headers", value: '{"Authorization":"Bearer tok-recognisable-123"}', userId: userA });
      await secrets.put(trx, tenantA, { name: "webhook/github", kind: "webhook", value: "whsec-recognisable-999" });
    });
    const listed = await inA((trx) => secrets.list(trx, tenantA));
    expect(listed.map((entry) => [entry.name, entry.kind, entry.hint])).toEqual([
      // A JSON document's tail would show part of its last value (here "23"): structured kinds are only "set".
      ["mcp/server-1/headers", "mcp-headers", "set"],
      ["model-key/anthropic", "model-key", "set"],
      ["webhook/github", "webhook", "…-999"],
    ]);
    expect(JSON.stringify(listed)).not.toMatch(/recognisable|short-key|Bearer/);
    expect(Object.keys(listed[0]!).sort()).toEqual(["createdAt", "hint", "kind", "name", "updatedAt", "updatedBy"]);
  });

  it("removes one secret, and every secret under a prefix (an underscore is not a wildcard)", async () => {
    await inA(async (trx) => {
      await secrets.put(trx, tenantA, { name: "mcp/server-1/oauth", kind: "mcp-oauth", value: "refresh-token-value-1" });
      await secrets.put(trx, tenantA, { name: "mcp/server_2/headers", kind: "mcp-headers", value: "{}" });
      await secrets.put(trx, tenantA, { name: "mcp/serverx2/headers", kind: "mcp-headers", value: "{}" });
    });
    expect(await inA((trx) => secrets.remove(trx, tenantA, "webhook/github", { userId: userA }))).toBe(true);
    expect(await inA((trx) => secrets.remove(trx, tenantA, "webhook/github"))).toBe(false);
    expect(await inA((trx) => secrets.reveal(trx, tenantA, "webhook/github"))).toBeUndefined();
    expect(await inA((trx) => secrets.removePrefix(trx, tenantA, "mcp/server-1/", { userId: userA }))).toBe(2);
    expect(await inA((trx) => secrets.removePrefix(trx, tenantA, "mcp/server_2/"))).toBe(1);
    expect((await inA((trx) => secrets.list(trx, tenantA))).map((entry) => entry.name)).toEqual(["mcp/serverx2/headers", "model-key/anthropic"]);
  });

  it("audits every set and removal by name and kind, with who did it, never the value", async () => {
    expect(await auditOf(tenantA, "webhook/github")).toEqual([
      { action: "secret.set", target: "webhook/github", actor_user_id: null, details: { kind: "webhook" } },
      { action: "secret.remove", target: "webhook/github", actor_user_id: userA, details: { kind: "webhook" } },
    ]);
    expect((await auditOf(tenantA, "mcp/server-1/oauth")).map((entry) => [entry.action, entry.actor_user_id])).toEqual([
      ["secret.set", null],
      ["secret.remove", userA],
    ]);
    const everything = await withSystem(database.system, (trx) => trx.selectFrom("audit_log").selectAll().where("tenant_id", "=", tenantA).execute());
    expect(everything.length).toBeGreaterThanOrEqual(8);
    expect(JSON.stringify(everything)).not.toMatch(/recognisable|short-key|refresh-token-value/);
  });

  it("refuses bad names, kinds and empty values without echoing the value", async () => {
    const refused = async (input: Parameters<TenantSecrets["put"]>[2]) => {
      const error = await inA((trx) => secrets.put(trx, tenantA, input)).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe("validation_failed");
      expect((error as AppError).message).not.toContain("hunter2-recognisable");
      return (error as AppError).message;
    };
    expect(await refused({ name: "Model Key", kind: "model-key", value: "hunter2-recognisable" })).toMatch(/^secret\.name: must be 1–200 characters/);
    expect(await refused({ name: "x", kind: "password" as never, value: "hunter2-recognisable" })).toMatch(/^secret\.kind: /);
    expect(await refused({ name: "x", kind: "webhook", value: "" })).toBe("secret.value: must not be empty");
    await expect(inA((trx) => secrets.removePrefix(trx, tenantA, ""))).rejects.toThrow(/^prefix: /);
  });
});

describe("binding a stored value to its organisation and name", () => {
  it("does not decrypt a ciphertext copied to another name, with an error that says so and hides the value", async () => {
    await inA((trx) => secrets.put(trx, tenantA, { name: "model-key/openai", kind: "model-key", value: "sk-openai-recognisable-0000" }));
    const stolen = (await storedRow(tenantA, "model-key/anthropic"))!.ciphertext;
    await withSystem(database.system, (trx) => trx.updateTable("tenant_secrets").set({ ciphertext: stolen }).where("tenant_id", "=", tenantA).where("name", "=", "model-key/openai").execute());
    const error = await unreadable(secrets, tenantA, "model-key/openai");
    expect(error.message).toBe(
      'the organisation\'s secret "model-key/openai" cannot be decrypted: the encrypted value does not authenticate: it was altered, or it belongs to another row; set it again',
    );
    // The row it came from still reads.
    expect(await inA((trx) => secrets.reveal(trx, tenantA, "model-key/anthropic"))).toBe("short-key");
  });

  it("does not decrypt a ciphertext copied to another organisation under the same name", async () => {
    const stolen = (await storedRow(tenantA, "model-key/anthropic"))!.ciphertext;
    await withSystem(database.system, (trx) =>
      trx.insertInto("tenant_secrets").values({ tenant_id: tenantB, name: "model-key/anthropic", kind: "model-key", ciphertext: stolen, hint: "set", updated_by: null }).execute(),
    );
    await unreadable(secrets, tenantB, "model-key/anthropic");
    expect(tenantSecretAssociatedData(tenantA, "a")).not.toBe(tenantSecretAssociatedData(tenantB, "a"));
    await withSystem(database.system, (trx) => trx.deleteFrom("tenant_secrets").where("tenant_id", "=", tenantB).execute());
  });

  it("names the master key a value needs when another one is configured, and reads it with that key kept as the previous one", async () => {
    const other = generateMasterKey();
    const withOtherKey = createTenantSecrets({ keys: { current: other }, now: () => clock });
    const error = await unreadable(withOtherKey, tenantA, "model-key/anthropic");
    expect(error.message).toContain(`encrypted with master key ${master.id}, not the configured one (${other.id})`);
    const duringRotation = createTenantSecrets({ keys: { current: other, previous: master }, now: () => clock });
    expect(await inA((trx) => duringRotation.reveal(trx, tenantA, "model-key/anthropic"))).toBe("short-key");
  });
});

describe("tenant_secrets under row-level security", () => {
  it("shows an organisation none of another's secrets", async () => {
    expect(await inB((trx) => secrets.list(trx, tenantB))).toEqual([]);
    expect(await inB((trx) => secrets.reveal(trx, tenantA, "model-key/anthropic"))).toBeUndefined();
    expect(await inB((trx) => trx.selectFrom("tenant_secrets").select("name").execute())).toEqual([]);
    expect(await inB((trx) => secrets.list(trx, tenantA))).toEqual([]);
  });

  it("refuses writes into another organisation and changes none of its rows", async () => {
    await expect(inB((trx) => secrets.put(trx, tenantA, { name: "model-key/anthropic", kind: "model-key", value: "planted-by-b-000000" }))).rejects.toThrow(
      /row-level security/,
    );
    expect(await inB((trx) => secrets.remove(trx, tenantA, "model-key/anthropic"))).toBe(false);
    expect(await inB((trx) => secrets.removePrefix(trx, tenantA, "model-key/"))).toBe(0);
    const updated = await inB((trx) => trx.updateTable("tenant_secrets").set({ hint: "owned" }).where("tenant_id", "=", tenantA).executeTakeFirst());
    expect(updated.numUpdatedRows).toBe(0n);
    expect(await inA((trx) => secrets.reveal(trx, tenantA, "model-key/anthropic"))).toBe("short-key");
    expect((await storedRow(tenantA, "model-key/anthropic"))?.hint).toBe("set");
  });

  it("goes with its organisation when the organisation is deleted", async () => {
    const [doomed] = await withSystem(database.system, (trx) => trx.insertInto("tenants").values({ name: "C" }).returning("id").execute());
    await withTenant(database.db, doomed!.id, (trx) => secrets.put(trx, doomed!.id, { name: "webhook/x", kind: "webhook", value: "whsec-recognisable-1" }));
    await withSystem(database.system, (trx) => trx.deleteFrom("tenants").where("id", "=", doomed!.id).execute());
    expect(await storedRow(doomed!.id, "webhook/x")).toBeUndefined();
  });
});
