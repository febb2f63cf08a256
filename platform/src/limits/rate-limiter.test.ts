import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { withSystem } from "../db/scopes";
import { openTestDatabase } from "../test-support/test-platform";
import { openTwoProcesses } from "../test-support/two-processes";
import { createRateLimiter, MAX_STORED_KEY_LENGTH, type RateLimiter } from "./rate-limiter";

const databaseUrl = process.env.DATABASE_URL;

let database: OpenDatabase;
let clock: Date;
let limiter: RateLimiter;

function advance(ms: number): void {
  clock = new Date(clock.getTime() + ms);
}

async function storedRows(): Promise<{ key: string; count: number }[]> {
  return withSystem(database.system, (trx) => trx.selectFrom("rate_limits").select(["key", "count"]).orderBy("key").execute());
}

beforeAll(async () => {
  database = await openTestDatabase();
  limiter = createRateLimiter({ system: database.system, now: () => clock });
});
afterAll(async () => {
  await database?.close();
});

describe(`rate limiter (${databaseUrl ? "Postgres" : "PGlite"})`, () => {
  it("admits exactly the limit out of 200 parallel hits on one key", async () => {
    clock = new Date("2030-01-01T00:00:00Z");
    const decisions = await Promise.all(Array.from({ length: 200 }, () => limiter.hit("parallel", { limit: 7, windowMs: 60_000 })));
    expect(decisions.filter((decision) => decision.allowed)).toHaveLength(7);
    // Every hit got its own count: the upsert never lost or doubled one.
    expect(decisions.map((decision) => decision.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    for (const refused of decisions.filter((decision) => !decision.allowed)) expect(refused.retryAfterSeconds).toBe(60);
  });

  it("starts a new window when the old one has expired on the injected clock", async () => {
    clock = new Date("2030-01-02T00:00:00Z");
    const limit = { limit: 2, windowMs: 60_000 };
    expect((await limiter.hit("window", limit)).allowed).toBe(true);
    expect((await limiter.hit("window", limit)).allowed).toBe(true);
    const refused = await limiter.hit("window", limit);
    expect(refused).toMatchObject({ allowed: false, count: 3, retryAfterSeconds: 60, resetAt: new Date("2030-01-02T00:01:00Z") });
    advance(59_500);
    expect(await limiter.hit("window", limit)).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    advance(500);
    expect(await limiter.hit("window", limit)).toMatchObject({ allowed: true, count: 1, resetAt: new Date("2030-01-02T00:02:00Z") });
  });

  it("shares counts between two processes on the same database", async () => {
    const processes = await openTwoProcesses(database);
    try {
      const now = () => new Date("2030-01-03T00:00:00Z");
      const a = createRateLimiter({ system: processes.first.system, now });
      const b = createRateLimiter({ system: processes.second.system, now });
      const limit = { limit: 10, windowMs: 60_000 };
      const decisions = await Promise.all(Array.from({ length: 100 }, (_, index) => (index % 2 === 0 ? a : b).hit("shared", limit)));
      expect(decisions.filter((decision) => decision.allowed)).toHaveLength(10);
      // A third limiter, without a refusal cache, sees every hit of both in the shared count.
      const c = createRateLimiter({ system: processes.second.system, now, denyCacheMs: 0 });
      expect(await c.hit("shared", limit)).toMatchObject({ allowed: false, count: 101 });
    } finally {
      await processes.close();
    }
  });

  it("keeps refusing a key it has just refused for a few seconds without asking the database", async () => {
    clock = new Date("2030-01-07T00:00:00Z");
    const cached = createRateLimiter({ system: database.system, now: () => clock, denyCacheMs: 5_000 });
    const limit = { limit: 1, windowMs: 60_000 };
    await cached.hit("flood", limit);
    expect(await cached.hit("flood", limit)).toMatchObject({ allowed: false, count: 2 });
    for (let index = 0; index < 20; index += 1) expect(await cached.hit("flood", limit)).toMatchObject({ allowed: false, retryAfterSeconds: 60 });
    expect((await storedRows()).find((row) => row.key === "flood")?.count).toBe(2);
    advance(5_000);
    expect(await cached.hit("flood", limit)).toMatchObject({ allowed: false, count: 3, retryAfterSeconds: 55 });
    // A reset here is seen here at once.
    await cached.reset("flood");
    expect(await cached.hit("flood", limit)).toMatchObject({ allowed: true, count: 1 });
  });

  it("refunds a hit without going below zero, and reset forgets the window", async () => {
    clock = new Date("2030-01-04T00:00:00Z");
    const limit = { limit: 1, windowMs: 60_000 };
    expect((await limiter.hit("refund", limit)).allowed).toBe(true);
    expect((await limiter.hit("refund", limit)).allowed).toBe(false);
    await limiter.refund("refund");
    await limiter.refund("refund");
    await limiter.refund("refund");
    expect(await limiter.hit("refund", limit)).toMatchObject({ allowed: true, count: 1 });
    await limiter.reset("refund");
    expect(await limiter.hit("refund", limit)).toMatchObject({ allowed: true, count: 1 });
    // A refund of an unknown key is harmless.
    await limiter.refund("never-hit");
    expect((await storedRows()).find((row) => row.key === "never-hit")).toBeUndefined();
  });

  it("prunes only expired windows, in bounded batches", async () => {
    await withSystem(database.system, (trx) => trx.deleteFrom("rate_limits").execute());
    clock = new Date("2030-01-05T00:00:00Z");
    for (const key of ["old-1", "old-2", "old-3"]) await limiter.hit(key, { limit: 5, windowMs: 1_000 });
    await limiter.hit("live", { limit: 5, windowMs: 3_600_000 });
    advance(1_000);
    expect(await limiter.prune({ batchSize: 2, maxBatches: 1 })).toBe(2);
    expect(await limiter.prune()).toBe(1);
    expect((await storedRows()).map((row) => row.key)).toEqual(["live"]);
    expect(await limiter.prune()).toBe(0);
  });

  it("stores long keys as a fixed-size hash, keeping distinct keys apart", async () => {
    clock = new Date("2030-01-06T00:00:00Z");
    const long = (suffix: string) => `sign-in:${"x".repeat(10_000)}${suffix}`;
    await limiter.hit(long("a"), { limit: 1, windowMs: 60_000 });
    expect((await limiter.hit(long("a"), { limit: 1, windowMs: 60_000 })).allowed).toBe(false);
    expect((await limiter.hit(long("b"), { limit: 1, windowMs: 60_000 })).allowed).toBe(true);
    const lengths = (await storedRows()).map((row) => row.key.length);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(MAX_STORED_KEY_LENGTH);
  });

  it("counts a weighted hit as that many hits, in the same window", async () => {
    clock = new Date("2030-01-07T00:00:00Z");
    const limit = { limit: 10, windowMs: 60_000 };
    expect(await limiter.hit("weighted", limit, 4)).toMatchObject({ allowed: true, count: 4 });
    expect(await limiter.hit("weighted", limit, 6)).toMatchObject({ allowed: true, count: 10 });
    expect(await limiter.hit("weighted", limit)).toMatchObject({ allowed: false, count: 11 });
    await expect(limiter.hit("weighted", limit, 0)).rejects.toThrow(/weight/);
  });

  it("refuses nonsensical limits before touching the database", async () => {
    await expect(limiter.hit("bad", { limit: 0, windowMs: 1_000 })).rejects.toThrow(/positive integer/);
    await expect(limiter.hit("bad", { limit: 1, windowMs: Number.NaN })).rejects.toThrow(/milliseconds/);
  });
});
