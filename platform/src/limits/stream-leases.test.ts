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

async function liveLeases(subject: string): Promise<number> {
  const rows = await withSystem(database.system, (trx) => trx.selectFrom("stream_leases").select("id").where("subject", "=", subject).where("expires_at", ">", clock).execute());
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

  it("refuses a nonsensical limit", async () => {
    const leases = createStreamLeases({ system: database.system, now, logError });
    await expect(leases.acquire("key:bad", 0)).rejects.toThrow(/positive integer/);
  });
});
