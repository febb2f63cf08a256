import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { withSystem, withTenant } from "../db/scopes";
import { openTestDatabase } from "../test-support/test-platform";
import { createJobRunner, enqueueJob, type Job, type JobRunner } from "./job-queue";
import { recordTenantEvent, tenantEventsAfter } from "./tenant-events";

let database: OpenDatabase;
let tenantA: string;
let tenantB: string;
let clock = new Date("2026-12-03T10:00:00Z");
const now = () => clock;
const advance = (ms: number) => (clock = new Date(clock.getTime() + ms));
const errors: string[] = [];
const logError = (message: string) => void errors.push(message);

async function makeTenant(name: string): Promise<string> {
  return withSystem(database.system, async (trx) => (await trx.insertInto("tenants").values({ name }).returning("id").executeTakeFirstOrThrow()).id);
}

function runner(workerId: string, handlers: Record<string, (job: Job) => Promise<unknown>>, extra: Partial<Parameters<typeof createJobRunner>[0]> = {}): JobRunner {
  const jobs = createJobRunner({ system: database.system, now, logError, workerId, ...extra });
  for (const [kind, handler] of Object.entries(handlers)) jobs.register(kind, handler as never);
  return jobs;
}

async function statusOf(kind: string) {
  return withSystem(database.system, (trx) => trx.selectFrom("jobs").select(["status", "attempts", "last_error", "run_at", "tenant_id"]).where("kind", "=", kind).orderBy("created_at").execute());
}

beforeAll(async () => {
  database = await openTestDatabase();
  tenantA = await makeTenant("alpha");
  tenantB = await makeTenant("beta");
});
afterAll(async () => {
  await database.close();
});

describe("the durable job queue", () => {
  it("runs a job when it is due, not before, and only once", async () => {
    const ran: string[] = [];
    const jobs = runner("w1", { "test.due": async (job) => void ran.push(String(job.payload.name)) });
    await withTenant(database.db, tenantA, (trx) => enqueueJob(trx, { kind: "test.due", tenantId: tenantA, payload: { name: "report" }, runAt: new Date(clock.getTime() + 60_000) }));
    expect(await jobs.runDue()).toBe(0);
    advance(60_000);
    expect(await jobs.runDue()).toBe(1);
    expect(await jobs.runDue()).toBe(0);
    expect(ran).toEqual(["report"]);
    expect((await statusOf("test.due"))[0]?.status).toBe("done");
  });

  it("a dedupe key keeps a second job of the same kind and key out", async () => {
    const added = await withTenant(database.db, tenantA, async (trx) => [
      await enqueueJob(trx, { kind: "test.dedupe", tenantId: tenantA, key: "firing-1", runAt: clock }),
      await enqueueJob(trx, { kind: "test.dedupe", tenantId: tenantA, key: "firing-1", runAt: clock }),
    ]);
    expect(added).toEqual([true, false]);
  });

  it("an organisation cannot enqueue or see jobs of another (row-level security)", async () => {
    await expect(withTenant(database.db, tenantA, (trx) => enqueueJob(trx, { kind: "test.rls", tenantId: tenantB, runAt: clock }))).rejects.toThrow();
    await withTenant(database.db, tenantB, (trx) => enqueueJob(trx, { kind: "test.rls", tenantId: tenantB, runAt: clock }));
    const seen = await withTenant(database.db, tenantA, (trx) => trx.selectFrom("jobs").select("id").where("kind", "=", "test.rls").execute());
    expect(seen).toEqual([]);
  });

  it("a failing job is retried with growing backoff and ends dead with its last error", async () => {
    let calls = 0;
    const jobs = runner("w1", {
      "test.flaky": async () => {
        calls += 1;
        throw new Error(`receiver said no (${calls})`);
      },
    });
    await withTenant(database.db, tenantA, (trx) => enqueueJob(trx, { kind: "test.flaky", tenantId: tenantA, runAt: clock, maxAttempts: 3 }));
    await jobs.runDue();
    const first = (await statusOf("test.flaky"))[0];
    expect(first).toMatchObject({ status: "queued", attempts: 1, last_error: "receiver said no (1)" });
    expect(new Date(first!.run_at).getTime() - clock.getTime()).toBe(10_000);
    advance(9_999);
    expect(await jobs.runDue()).toBe(0);
    advance(1);
    await jobs.runDue();
    expect(new Date((await statusOf("test.flaky"))[0]!.run_at).getTime() - clock.getTime()).toBe(20_000);
    advance(20_000);
    await jobs.runDue();
    expect((await statusOf("test.flaky"))[0]).toMatchObject({ status: "dead", attempts: 3, last_error: "receiver said no (3)" });
    expect(calls).toBe(3);
    expect(errors.some((message) => message.includes("test.flaky"))).toBe(true);
  });

  it("two processes working the same queue run each job exactly once", async () => {
    const ranBy = new Map<string, string[]>();
    const handler = (worker: string) => async (job: Job) => {
      // Slow enough that both processes are claiming while the other works.
      await new Promise((resolve) => setTimeout(resolve, 2));
      ranBy.set(String(job.payload.n), [...(ranBy.get(String(job.payload.n)) ?? []), worker]);
    };
    const one = runner("one", { "test.race": handler("one") }, { batch: 3 });
    const two = runner("two", { "test.race": handler("two") }, { batch: 3 });
    await withTenant(database.db, tenantA, async (trx) => {
      for (let n = 0; n < 40; n += 1) await enqueueJob(trx, { kind: "test.race", tenantId: tenantA, payload: { n }, runAt: clock });
    });
    await Promise.all([one.runDue(), two.runDue(), one.runDue(), two.runDue()]);
    expect(ranBy.size).toBe(40);
    expect([...ranBy.values()].every((workers) => workers.length === 1)).toBe(true);
  });

  it("a job whose process died mid-run is taken over when its lease runs out", async () => {
    let release!: () => void;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const dying = runner("dying", { "test.lease": () => stuck }, { leaseMs: 60_000 });
    await withTenant(database.db, tenantA, (trx) => enqueueJob(trx, { kind: "test.lease", tenantId: tenantA, runAt: clock }));
    const abandoned = dying.runDue(); // never settles while `stuck` is pending: the process "died"
    await new Promise((resolve) => setTimeout(resolve, 50));
    const ran: string[] = [];
    const survivor = runner("survivor", { "test.lease": async (job) => void ran.push(`attempt ${job.attempt}`) }, { leaseMs: 60_000 });
    expect(await survivor.runDue()).toBe(0);
    advance(60_000);
    expect(await survivor.runDue()).toBe(1);
    expect(ran).toEqual(["attempt 2"]);
    // The dead process's late completion does not undo the survivor's.
    release();
    await abandoned;
    expect((await statusOf("test.lease"))[0]?.status).toBe("done");
  });

  it("one organisation's flood does not hold back another's job", async () => {
    const order: string[] = [];
    const jobs = runner("w1", { "test.fair": async (job) => void order.push(job.tenantId === tenantA ? "A" : "B") }, { batch: 5, perTenant: 2, concurrency: 1 });
    await withTenant(database.db, tenantA, async (trx) => {
      for (let n = 0; n < 30; n += 1) await enqueueJob(trx, { kind: "test.fair", tenantId: tenantA, runAt: new Date(clock.getTime() - 1_000 + n) });
    });
    await withTenant(database.db, tenantB, (trx) => enqueueJob(trx, { kind: "test.fair", tenantId: tenantB, runAt: clock }));
    await jobs.runDue();
    expect(order).toHaveLength(31);
    expect(order.indexOf("B")).toBeLessThan(3);
  });

  it("periodic work runs once per period across processes", async () => {
    let ticks = 0;
    const make = (id: string) => {
      const jobs = createJobRunner({ system: database.system, now, logError, workerId: id });
      jobs.every("test.tick", 30_000, async () => void (ticks += 1));
      return jobs;
    };
    const [one, two] = [make("one"), make("two")];
    await Promise.all([one.runDue(), two.runDue()]);
    expect(ticks).toBe(1);
    advance(29_999);
    await Promise.all([one.runDue(), two.runDue()]);
    expect(ticks).toBe(1);
    advance(1);
    await Promise.all([one.runDue(), two.runDue()]);
    expect(ticks).toBe(2);
  });
});

describe("tenant events", () => {
  const fanoutKeys = async () => (await withTenant(database.db, tenantA, (trx) => trx.selectFrom("jobs").select(["key"]).where("kind", "=", "events.fanout").execute())).map((row) => row.key);
  const addEndpoint = (tenantId: string, eventTypes: string[] | null, enabled = true) =>
    withTenant(database.db, tenantId, (trx) =>
      trx.insertInto("webhook_endpoints").values({ tenant_id: tenantId, url: "https://hooks.example.com/in", event_types: eventTypes, enabled, secret_hint: "whsec_…abcd" }).returning("id").executeTakeFirstOrThrow(),
    );
  const record = (runId: string) =>
    withTenant(database.db, tenantA, (trx) => recordTenantEvent(trx, tenantA, { type: "run.completed", data: { runId }, occurredAt: clock, dedupeKey: `run:${runId}` }));

  it("are recorded once per dedupe key and seen only by their organisation; none waits for a fan-out while nobody subscribes", async () => {
    const first = await record("r1");
    const again = await record("r1");
    expect(first?.type).toBe("run.completed");
    expect(again).toBeUndefined();
    expect(await withTenant(database.db, tenantA, (trx) => tenantEventsAfter(trx, tenantA, 0))).toHaveLength(1);
    expect(await withTenant(database.db, tenantB, (trx) => tenantEventsAfter(trx, tenantA, 0))).toEqual([]);
    // No endpoint, one for another type, a disabled one, another organisation's: no fan-out job.
    await addEndpoint(tenantA, ["budget.threshold"]);
    await addEndpoint(tenantA, null, false);
    await addEndpoint(tenantB, null);
    expect(await record("r2")).toBeDefined();
    expect(await fanoutKeys()).toEqual([]);
  });

  it("get a fan-out job in the same transaction once an enabled endpoint takes their type", async () => {
    await addEndpoint(tenantA, ["run.completed", "run.failed"]);
    const event = await record("r3");
    expect(await fanoutKeys()).toEqual([event?.id]);
  });
});
