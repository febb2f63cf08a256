import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { openTestDatabase } from "../test-support/test-platform";
import { openTwoProcesses } from "../test-support/two-processes";
import { createRateLimiter, type RateLimiter } from "./rate-limiter";
import { createRequestCounter } from "./request-counter";

let database: OpenDatabase;
let clock: Date;
const now = () => clock;

beforeAll(async () => {
  database = await openTestDatabase();
});
afterAll(async () => {
  await database?.close();
});

/** A limiter that counts its database round trips. */
function counting(limiter: RateLimiter): RateLimiter & { trips: number } {
  const counted = {
    ...limiter,
    trips: 0,
    hit: (...args: Parameters<RateLimiter["hit"]>) => {
      counted.trips += 1;
      return limiter.hit(...args);
    },
  };
  return counted;
}

/** A small seeded generator (mulberry32), so every interleaving can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("request counter", () => {
  it("admits exactly the limit of a small limit across two processes, then says when to come back", async () => {
    clock = new Date("2030-02-01T00:00:00Z");
    const processes = await openTwoProcesses(database);
    try {
      const a = createRequestCounter({ limiter: createRateLimiter({ system: processes.first.system, now }), now });
      const b = createRequestCounter({ limiter: createRateLimiter({ system: processes.second.system, now }), now });
      const decisions = [];
      for (let index = 0; index < 12; index += 1) decisions.push(await (index % 2 === 0 ? a : b).take("small", 5));
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(5);
      expect(decisions.slice(0, 5).map((decision) => decision.remaining)).toEqual([4, 3, 2, 1, 0]);
      clock = new Date("2030-02-01T00:00:20Z");
      expect(await a.take("small", 5)).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 40 });
      clock = new Date("2030-02-01T00:01:00Z");
      expect(await b.take("small", 5)).toMatchObject({ allowed: true, remaining: 4 });
      expect(await a.take("small", 5)).toMatchObject({ allowed: true, remaining: 3 });
    } finally {
      await processes.close();
    }
  });

  it.each([1, 2, 3, 4, 5])("keeps a busy key within its documented tolerance across two processes, in few round trips (seed %i)", async (seed) => {
    clock = new Date(`2030-02-0${seed + 1}T00:00:00Z`);
    const processes = await openTwoProcesses(database);
    try {
      const limiters = [processes.first, processes.second].map((opened) => counting(createRateLimiter({ system: opened.system, now })));
      const counters = limiters.map((limiter) => createRequestCounter({ limiter, now }));
      const random = seeded(seed);
      const limit = 500;
      let admitted = 0;
      for (let index = 0; index < 1_000; index += 1) {
        if ((await counters[random() < 0.5 ? 0 : 1]!.take(`busy-${seed}`, limit)).allowed) admitted += 1;
      }
      const batch = counters[0]!.batchFor(limit);
      expect(batch).toBe(10);
      // One process never sees the other's unsent hits: at most one batch over, never under.
      expect(admitted).toBeGreaterThanOrEqual(limit);
      expect(admitted).toBeLessThanOrEqual(limit + batch);
      const trips = limiters.reduce((sum, limiter) => sum + limiter.trips, 0);
      expect(trips).toBeLessThan(admitted / batch + 10);
    } finally {
      await processes.close();
    }
  });

  it("counts keys apart", async () => {
    clock = new Date("2030-02-10T00:00:00Z");
    const counter = createRequestCounter({ limiter: createRateLimiter({ system: database.system, now }), now });
    expect(await counter.take("one", 1)).toMatchObject({ allowed: true });
    expect(await counter.take("one", 1)).toMatchObject({ allowed: false, retryAfterSeconds: 60 });
    expect(await counter.take("two", 1)).toMatchObject({ allowed: true });
  });
});
