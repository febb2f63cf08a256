import { randomUUID } from "node:crypto";
import { AppError } from "@workforce/protocol";
import { createClient } from "redis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../logger";
import type { Leases } from "../leases";
import { newRedisClient, type RedisClient } from "../redis-connection";
import { createRedisLeases } from "./redis-leases";
import { deleteRedisKeys, REDIS_URL, redisForTests } from "../../test-support/redis";

const reachable = await redisForTests("Redis lease tests");

const prefixes: string[] = [];
const opened: Leases[] = [];
const clients: RedisClient[] = [];

afterEach(async () => {
  for (const leases of opened.splice(0)) await leases.close();
  for (const client of clients.splice(0)) if (client.isOpen) client.destroy();
});
afterAll(async () => {
  if (reachable) for (const prefix of prefixes) await deleteRedisKeys(prefix);
});

function newPrefix(): string {
  const prefix = `workforce-test:${randomUUID()}:`;
  prefixes.push(prefix);
  return prefix;
}

/** Leases of one gateway; `client` lets a test cut its connection as a crash or stall would. */
async function gateway(memberId: string, keyPrefix: string, ttlMs = 15_000): Promise<{ leases: Leases; client: RedisClient }> {
  const client = newRedisClient(REDIS_URL, () => undefined);
  await client.connect();
  clients.push(client);
  const leases = createRedisLeases({ client, memberId, keyPrefix, ttlMs, logger: silentLogger });
  opened.push(leases);
  return { leases, client };
}

async function keysUnder(prefix: string): Promise<string[]> {
  const reader = createClient({ url: REDIS_URL });
  await reader.connect();
  const found: string[] = [];
  for await (const keys of reader.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) found.push(...keys);
  await reader.close();
  return found.sort();
}

describe.skipIf(!reachable)("leases on Redis", () => {
  it("lets one gateway hold a key at a time, with a strictly greater token for every grant", async () => {
    const prefix = newPrefix();
    const a = await gateway("gw-a", prefix);
    const b = await gateway("gw-b", prefix);
    const first = await a.leases.acquire("run:t1/ada/s1");
    expect(first.tookOver).toBe(false);
    expect(await a.leases.holder("run:t1/ada/s1")).toBe("gw-a");
    expect(await b.leases.tryAcquire("run:t1/ada/s1")).toBeUndefined();
    // Another key is independent.
    const other = await b.leases.acquire("run:t1/ada/s2");
    await other.release();

    // B waits; it gets the lease once A releases, with a greater token, and not as a take-over.
    const waiting = b.leases.acquire("run:t1/ada/s1", { timeoutMs: 10_000 });
    await first.release();
    const second = await waiting;
    expect(second.token).toBeGreaterThan(first.token);
    expect(second.tookOver).toBe(false);
    expect(first.lost.aborted).toBe(true);
    expect(await first.confirm()).toBe(false);
    expect(await second.confirm()).toBe(true);
    expect(await b.leases.holder("run:t1/ada/s1")).toBe("gw-b");
    await second.release();
    const third = await a.leases.acquire("run:t1/ada/s1");
    expect(third.token).toBeGreaterThan(second.token);
    await third.release();
  });

  it("gives up waiting after timeoutMs with a retryable storage_unavailable, and when the signal aborts", async () => {
    const prefix = newPrefix();
    const a = await gateway("gw-a", prefix);
    const b = await gateway("gw-b", prefix);
    const held = await a.leases.acquire("config:t1");
    const timedOut = await b.leases.acquire("config:t1", { timeoutMs: 100 }).catch((error: unknown) => error);
    expect(timedOut).toBeInstanceOf(AppError);
    expect(timedOut).toMatchObject({ code: "storage_unavailable", retryable: true });

    const controller = new AbortController();
    const cancelled = b.leases.acquire("config:t1", { timeoutMs: 10_000, signal: controller.signal }).catch((error: unknown) => error);
    controller.abort(new Error("client went away"));
    expect(await cancelled).toMatchObject({ message: "client went away" });
    await held.release();
  });

  it("keeps a lease past its TTL while the holder renews it", async () => {
    const prefix = newPrefix();
    const a = await gateway("gw-a", prefix, 1_000);
    const b = await gateway("gw-b", prefix, 1_000);
    const lease = await a.leases.acquire("registry:t1/ada");
    const started = Date.now();
    // Two and a half TTLs later it is still A's: renewals every third of the TTL kept it.
    await expect.poll(() => Date.now() - started, { timeout: 10_000, interval: 100 }).toBeGreaterThan(2_500);
    expect(lease.lost.aborted).toBe(false);
    expect(await b.leases.tryAcquire("registry:t1/ada")).toBeUndefined();
    await lease.release();
  });

  it("hands a crashed holder's lease on after its TTL, as a take-over with a higher token", async () => {
    const prefix = newPrefix();
    const a = await gateway("gw-a", prefix, 300);
    const b = await gateway("gw-b", prefix, 300);
    const crashed = await a.leases.acquire("run:t1/ada/s1");
    a.client.destroy(); // the process died: no release, no renewal
    const next = await b.leases.acquire("run:t1/ada/s1", { timeoutMs: 5_000 });
    expect(next.tookOver).toBe(true);
    expect(next.token).toBeGreaterThan(crashed.token);
    // The dead holder learns it lost the lease once Redis has been unreachable for a TTL.
    await expect.poll(() => crashed.lost.aborted, { timeout: 5_000 }).toBe(true);
    expect(await crashed.confirm()).toBe(false);
    await next.release();
    expect((await b.leases.acquire("run:t1/ada/s1")).tookOver).toBe(false);
  });

  it("fires lost when the lease is taken from its holder, and refuses to confirm it", async () => {
    const prefix = newPrefix();
    const a = await gateway("gw-a", prefix, 300);
    const lease = await a.leases.acquire("run:t1/ada/s1");
    const lostReason = new Promise<unknown>((resolve) => lease.lost.addEventListener("abort", () => resolve(lease.lost.reason), { once: true }));
    // Someone else's value replaces it (an operator, or a holder granted after an expiry A did not notice).
    await a.client.set(`${prefix}lease:run:t1/ada/s1`, "gw-x:999");
    expect(await lease.confirm()).toBe(false);
    expect(await lostReason).toMatchObject({ code: "storage_unavailable" });
    // Releasing it afterwards leaves the other holder's lease alone.
    await lease.release();
    expect(await a.leases.holder("run:t1/ada/s1")).toBe("gw-x");

    // Expired under it (renewals stopped reaching Redis in time): the next renewal finds it gone.
    const second = await a.leases.acquire("run:t1/ada/s2");
    await a.client.del(`${prefix}lease:run:t1/ada/s2`);
    await expect.poll(() => second.lost.aborted, { timeout: 5_000 }).toBe(true);
  });

  it("releases idempotently and leaves only the fencing counter behind", async () => {
    const prefix = newPrefix();
    const a = await gateway("gw-a", prefix);
    const lease = await a.leases.acquire("run:t1/ada/s1");
    expect(await keysUnder(prefix)).toEqual([`${prefix}fence:run:t1/ada/s1`, `${prefix}lease-open:run:t1/ada/s1`, `${prefix}lease:run:t1/ada/s1`]);
    await Promise.all([lease.release(), lease.release()]);
    await lease.release();
    expect(await keysUnder(prefix)).toEqual([`${prefix}fence:run:t1/ada/s1`]);
    expect(await a.leases.holder("run:t1/ada/s1")).toBeUndefined();
    // A stale release does not free a later holder's lease.
    const again = await a.leases.acquire("run:t1/ada/s1");
    await lease.release();
    expect(await a.leases.holder("run:t1/ada/s1")).toBe("gw-a");
    await again.release();
  });
});

describe("leases on a Redis that is unreachable", () => {
  it("fail with a retryable storage_unavailable once the wait times out, instead of hanging", async () => {
    // A port nothing listens on: the client keeps reconnecting, commands fail at once.
    const leases = createRedisLeases({ url: "redis://127.0.0.1:1", memberId: "gw-a", keyPrefix: newPrefix(), logger: silentLogger });
    opened.push(leases);
    const started = Date.now();
    await expect(leases.acquire("run:t1/ada/s1", { timeoutMs: 300 })).rejects.toMatchObject({ code: "storage_unavailable", retryable: true });
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(leases.tryAcquire("run:t1/ada/s1")).rejects.toMatchObject({ code: "storage_unavailable" });
    await expect(leases.holder("run:t1/ada/s1")).rejects.toMatchObject({ code: "storage_unavailable" });
  });
});

describe.skipIf(!reachable)("leases on their own Redis connection", () => {
  it("grant right after creation, while the connection is still being made, and close it", async () => {
    const leases = createRedisLeases({ url: REDIS_URL, memberId: "gw-a", keyPrefix: newPrefix(), logger: silentLogger });
    const lease = await leases.acquire("config:t1", { timeoutMs: 5_000 });
    expect(await leases.holder("config:t1")).toBe("gw-a");
    await lease.release();
    await leases.close();
  });
});

