import { createClient } from "redis";

export const TEST_REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * Whether the test Redis answers. Missing under CI=true is an error (the suite must not pass by
 * skipping); elsewhere the suite is skipped with a warning.
 */
export async function testRedisReachable(suite: string): Promise<boolean> {
  const probe = createClient({ url: TEST_REDIS_URL, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
  probe.on("error", () => undefined);
  let reachable = false;
  try {
    await probe.connect();
    await probe.ping();
    await probe.close();
    reachable = true;
  } catch {
    reachable = false;
  }
  if (!reachable && process.env.CI === "true") throw new Error(`Redis at ${TEST_REDIS_URL} is unreachable, and CI=true requires it for the ${suite} tests: start redis-server or set REDIS_URL`);
  if (!reachable) console.warn(`${suite} tests skipped: no Redis at ${TEST_REDIS_URL}`);
  return reachable;
}

/** Deletes every key of a test's prefix. */
export async function removeTestKeys(prefix: string): Promise<void> {
  const cleaner = createClient({ url: TEST_REDIS_URL });
  await cleaner.connect();
  for await (const keys of cleaner.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) if (keys.length > 0) await cleaner.del(keys);
  await cleaner.close();
}
