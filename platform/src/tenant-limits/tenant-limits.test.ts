/**
 * An organisation's limits as the database keeps them: its own transaction reads its row and
 * nobody else's and cannot change it (only the operator's system scope can); the policy pushed
 * to the gateway combines the defaults, the operator's overrides and the organisation's budget;
 * `limitsFor` serves the API's rate limits from a short cache.
 */
import { AppError, type TenantPolicy } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { withSystem, withTenant } from "../db/scopes";
import { openTestDatabase } from "../test-support/test-platform";
import { createLimitsReader } from "./limits-reader";
import { createPolicyPusher, markPolicyChanged } from "./policy-push";
import { effectiveLimits, readLimitInputs, tenantPolicy } from "./tenant-limits";

let database: OpenDatabase;
let tenantA: string;
let tenantB: string;
const DEFAULTS = { maxConcurrentRuns: 4, maxQueuedRuns: 200, diskMb: 2_048 };

beforeAll(async () => {
  database = await openTestDatabase();
  await withSystem(database.system, async (trx) => {
    [tenantA, tenantB] = (await trx.insertInto("tenants").values([{ name: "A" }, { name: "B" }]).returning("id").execute()).map((row) => row.id) as [string, string];
    await trx
      .insertInto("tenant_limits")
      .values([
        { tenant_id: tenantA, max_concurrent_runs: 1, max_queued_runs: null, monthly_tokens: 500, disk_mb: 0, requests_per_minute: 60, max_streams: null },
        { tenant_id: tenantB, max_concurrent_runs: 9, max_queued_runs: 9, monthly_tokens: null, disk_mb: 9, requests_per_minute: 9, max_streams: 9 },
      ])
      .execute();
    await trx.insertInto("tenant_budgets").values({ tenant_id: tenantA, monthly_tokens: 2_000 }).execute();
  });
});
afterAll(async () => {
  await database.close();
});

describe("tenant_limits under row-level security", () => {
  it("shows an organisation its own limits and no other's", async () => {
    const rows = await withTenant(database.db, tenantA, (trx) => trx.selectFrom("tenant_limits").select(["tenant_id", "max_concurrent_runs"]).execute());
    expect(rows).toEqual([{ tenant_id: tenantA, max_concurrent_runs: 1 }]);
  });

  it("never lets an organisation change its own limits, or add or remove them", async () => {
    await expect(withTenant(database.db, tenantA, (trx) => trx.updateTable("tenant_limits").set({ max_concurrent_runs: 1_000 }).where("tenant_id", "=", tenantA).execute())).rejects.toThrow(
      /permission denied/,
    );
    await expect(withTenant(database.db, tenantA, (trx) => trx.deleteFrom("tenant_limits").where("tenant_id", "=", tenantA).execute())).rejects.toThrow(/permission denied/);
    await expect(
      withTenant(database.db, tenantB, (trx) =>
        trx.insertInto("tenant_limits").values({ tenant_id: tenantB, max_concurrent_runs: 1_000, max_queued_runs: null, monthly_tokens: null, disk_mb: null, requests_per_minute: null, max_streams: null }).execute(),
      ),
    ).rejects.toThrow(/permission denied/);
    const row = await withSystem(database.system, (trx) => trx.selectFrom("tenant_limits").select("max_concurrent_runs").where("tenant_id", "=", tenantA).executeTakeFirstOrThrow());
    expect(row.max_concurrent_runs).toBe(1);
  });

  it("lets an organisation mark its own policy changed (its budget) but not another's", async () => {
    await withTenant(database.db, tenantA, (trx) => markPolicyChanged(trx, tenantA));
    await expect(withTenant(database.db, tenantA, (trx) => markPolicyChanged(trx, tenantB))).rejects.toThrow(/row-level security/);
  });

  it("gives every change a higher version, whoever makes it", async () => {
    const version = async () => Number((await withSystem(database.system, (trx) => trx.selectFrom("tenant_policy_pushes").select("version").where("tenant_id", "=", tenantA).executeTakeFirstOrThrow())).version);
    const first = await version();
    await withSystem(database.system, (trx) => markPolicyChanged(trx, tenantA));
    const second = await version();
    await withTenant(database.db, tenantA, (trx) => markPolicyChanged(trx, tenantA));
    expect(second).toBeGreaterThan(first);
    expect(await version()).toBeGreaterThan(second);
  });
});

describe("the policy the gateway gets", () => {
  it("takes the defaults where the operator set none, the smaller of plan and budget, and no disk quota for 0", async () => {
    const inputs = await withTenant(database.db, tenantA, (trx) => readLimitInputs(trx, tenantA));
    expect(inputs).toBeDefined();
    expect(effectiveLimits(DEFAULTS, inputs!.overrides, inputs!.budgetMonthlyTokens)).toEqual({
      maxConcurrentRuns: 1,
      maxQueuedRuns: 200,
      monthlyTokens: 500,
      diskMb: null,
      requestsPerMinute: 60,
      maxStreams: null,
    });
    expect(tenantPolicy(7, { ...inputs!, suspended: { reason: "Abuse" } }, DEFAULTS)).toEqual({
      version: 7,
      suspended: true,
      suspendedReason: "Abuse",
      limits: { maxConcurrentRuns: 1, maxQueuedRuns: 200, monthlyTokens: 500, diskBytes: null },
    });
    const plain = await withSystem(database.system, (trx) => readLimitInputs(trx, tenantB));
    expect(tenantPolicy(1, plain!, DEFAULTS).limits).toEqual({ maxConcurrentRuns: 9, maxQueuedRuns: 9, monthlyTokens: null, diskBytes: 9 * 1024 * 1024 });
  });
});

describe("limitsFor", () => {
  it("answers each organisation's API limits, its overrides over the defaults, from a cache until invalidated", async () => {
    let now = 1_000;
    const reader = createLimitsReader({ db: database.db, defaults: { requestsPerMinute: 100, maxStreams: 5 }, now: () => now, ttlMs: 5_000 });
    expect(await reader.limitsFor(tenantA)).toEqual({ requestsPerMinute: 60, maxStreams: 5 });
    expect(await reader.limitsFor(tenantB)).toEqual({ requestsPerMinute: 9, maxStreams: 9 });

    await withSystem(database.system, (trx) => trx.updateTable("tenant_limits").set({ requests_per_minute: null }).where("tenant_id", "=", tenantA).execute());
    expect((await reader.limitsFor(tenantA)).requestsPerMinute).toBe(60);
    now += 5_000;
    expect(await reader.limitsFor(tenantA)).toEqual({ requestsPerMinute: 100, maxStreams: 5 });

    await withSystem(database.system, (trx) => trx.updateTable("tenant_limits").set({ max_streams: 2 }).where("tenant_id", "=", tenantA).execute());
    reader.invalidate(tenantA);
    expect(await reader.limitsFor(tenantA)).toEqual({ requestsPerMinute: 100, maxStreams: 2 });
  });
});

describe("the reconcile loop", () => {
  it("stops a round at a gateway that is down, but does not let one refused policy hold up the others", async () => {
    await withSystem(database.system, async (trx) => {
      await markPolicyChanged(trx, tenantA);
      await markPolicyChanged(trx, tenantB);
    });
    const held = new Map<string, TenantPolicy>();
    const logged: string[] = [];
    let gateway: "down" | "refuses A" = "down";
    const pusher = createPolicyPusher({
      system: database.system,
      defaults: DEFAULTS,
      logError: (message) => logged.push(message),
      putPolicy: async (tenantId, policy) => {
        if (gateway === "down") throw new AppError("gateway_unavailable", "The agent gateway is not reachable right now");
        if (tenantId === tenantA) throw new AppError("validation_failed", "limits: unexpected");
        held.set(tenantId, policy);
        return { ...policy, source: "pushed" };
      },
    });
    expect(await pusher.reconcile()).toBe(0);
    expect(logged).toEqual([]);

    gateway = "refuses A";
    expect(await pusher.reconcile()).toBe(1);
    expect(held.get(tenantB)?.limits.maxConcurrentRuns).toBe(9);
    // Refused again next round: still due, logged once, and B is not pushed twice.
    expect(await pusher.reconcile()).toBe(0);
    expect(logged).toEqual([`could not push the policy of organisation ${tenantA} to the gateway`]);
    const stateOf = async (tenantId: string) =>
      withSystem(database.system, (trx) => trx.selectFrom("tenant_policy_pushes").select(["version", "pushed_version", "last_error"]).where("tenant_id", "=", tenantId).executeTakeFirstOrThrow());
    expect((await stateOf(tenantA)).last_error).toBe("limits: unexpected");
    const b = await stateOf(tenantB);
    expect([Number(b.pushed_version), b.last_error]).toEqual([Number(b.version), null]);
    await pusher.stop();
  });
});
