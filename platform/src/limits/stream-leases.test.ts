import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { withSystem } from "../db/scopes";
import { openTestDatabase } from "../test-support/test-platform";
import { openTwoProcesses } from "../test-support/two-processes";
import { createStreamLeases, type StreamLease } from "./stream-leases";

let database: OpenDatabase;
let clock: Date;
const now = () => clock;
const logError = (message: string, error: unknown) => console.error(message, error);

function advance(ms: number): void {
  clock = new Date(clock.getTime() + ms);
}

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

async function liveLeases(subject: string, system = database.system): Promise<number> {
  const rows = await withSystem(system, (trx) => trx.selectFrom("stream_leases").select("id").where("subject", "=", subject).where("expires_at", ">", clock).execute());
  return rows.length;
}

describe("stream leases", () => {
  it("admits exactly the limit of 30 parallel opens on two processes, and a released place lets the next one in", async () => {
    clock = new Date("2030-03-01T00:00:00Z");
    const processes = await openTwoProcesses(database);
    const a = createStreamLeases({ system: processes.first.system, now, logError });
    const b = createStreamLeases({ system: processes.second.system, now, logError });
    try {
      const decisions = await Promise.all(Array.from({ length: 30 }, (_, index) => (index % 2 === 0 ? a : b).acquire("user:parallel", 3)));
      const leases = decisions.flatMap((decision) => (decision.allowed ? [decision.lease] : []));
      expect(leases).toHaveLength(3);
      expect(await a.acquire("user:parallel", 3)).toMatchObject({ allowed: false, open: expect.any(Number) });
      // Another subject is not affected.
      expect((await b.acquire("user:other", 3)).allowed).toBe(true);
      await leases[0]!.release();
      await leases[0]!.release();
      expect((await b.acquire("user:parallel", 3)).allowed).toBe(true);
      expect((await a.acquire("user:parallel", 3)).allowed).toBe(false);
    } finally {
      await a.close();
      await b.close();
      await processes.close();
    }
  });

  it("frees the streams of a process that stopped renewing once their lease expires, and keeps renewed ones", async () => {
    clock = new Date("2030-03-02T00:00:00Z");
    const crashed = createStreamLeases({ system: database.system, now, logError, ttlMs: 60_000, renewEveryMs: 3_600_000 });
    const alive = createStreamLeases({ system: database.system, now, logError, ttlMs: 60_000 });
    const other = createStreamLeases({ system: database.system, now, logError, ttlMs: 60_000 });
    try {
      expect((await crashed.acquire("key:crashed", 1)).allowed).toBe(true);
      expect((await alive.acquire("key:alive", 1)).allowed).toBe(true);
      advance(40_000);
      // The live process renews (its timer does this every 20 s); the crashed one never will.
      await alive.renew();
      advance(21_000);
      expect((await other.acquire("key:alive", 1)).allowed).toBe(false);
      const freed = await other.acquire("key:crashed", 1);
      expect(freed.allowed).toBe(true);
      expect(await liveLeases("key:crashed")).toBe(1);
    } finally {
      await other.close();
      await alive.close();
    }
    // close() gave back every place the process held.
    expect(await liveLeases("key:alive")).toBe(0);
    expect(alive.held).toBe(0);
  });

  it("prunes only expired leases", async () => {
    clock = new Date("2030-03-03T00:00:00Z");
    const leases = createStreamLeases({ system: database.system, now, logError, ttlMs: 1_000 });
    const held: StreamLease[] = [];
    try {
      for (const subject of ["key:p1", "key:p2"]) {
        const decision = await leases.acquire(subject, 1);
        if (decision.allowed) held.push(decision.lease);
      }
      advance(2_000);
      const fresh = await leases.acquire("key:p3", 1);
      expect(fresh.allowed).toBe(true);
      expect(await leases.prune()).toBeGreaterThanOrEqual(2);
      expect(await liveLeases("key:p3")).toBe(1);
    } finally {
      await leases.close();
    }
  });

  it("frees a released place on its own process at once; the row goes with the next acquire there, or at the latest with close", async () => {
    clock = new Date("2030-03-04T00:00:00Z");
    const processes = await openTwoProcesses(database);
    // No flush timer within the test: only acquires and close delete released rows.
    const a = createStreamLeases({ system: processes.first.system, now, logError, releaseFlushMs: 3_600_000 });
    const b = createStreamLeases({ system: processes.second.system, now, logError });
    try {
      const first = await a.acquire("user:batched", 1);
      if (!first.allowed) throw new Error("the first place was refused");
      const deleted = first.lease.release();
      // Its own process lets the next stream in at once, and that acquire deleted the released row.
      const second = await a.acquire("user:batched", 1);
      if (!second.allowed) throw new Error("a released place was refused on its own process");
      await deleted;
      expect(await liveLeases("user:batched", processes.first.system)).toBe(1);

      // Another process still counts a released row until it is deleted: close() deletes it.
      void second.lease.release();
      expect(a.held).toBe(0);
      expect((await b.acquire("user:batched", 1)).allowed).toBe(false);
      await a.close();
      expect(await liveLeases("user:batched", processes.first.system)).toBe(0);
      expect((await b.acquire("user:batched", 1)).allowed).toBe(true);
    } finally {
      await a.close();
      await b.close();
      await processes.close();
    }
  });

  it("keeps a released lease to delete when the transaction that was to delete it rolls back", async () => {
    clock = new Date("2030-03-05T00:00:00Z");
    const leases = createStreamLeases({ system: database.system, now, logError, releaseFlushMs: 3_600_000 });
    try {
      const taken = await leases.acquire("key:rollback", 1);
      if (!taken.allowed) throw new Error("refused");
      const deleted = taken.lease.release();
      const attempt = leases.attempt("key:other", 1)!;
      await expect(
        withSystem(database.system, async (trx) => {
          await attempt.take(trx);
          throw new Error("the admission failed after its lease step");
        }),
      ).rejects.toThrow(/admission failed/);
      expect(attempt.settle(false)).toBeUndefined();
      // Neither the other subject's place nor the deletion happened; the next acquire deletes it.
      expect(await liveLeases("key:other")).toBe(0);
      expect(await liveLeases("key:rollback")).toBe(1);
      expect((await leases.acquire("key:rollback", 1)).allowed).toBe(true);
      await deleted;
      expect(await liveLeases("key:rollback")).toBe(1);
    } finally {
      await leases.close();
    }
    expect(await liveLeases("key:rollback")).toBe(0);
  });

  it("refuses a nonsensical limit", async () => {
    const leases = createStreamLeases({ system: database.system, now, logError });
    await expect(leases.acquire("key:bad", 0)).rejects.toThrow(/positive integer/);
  });
});
