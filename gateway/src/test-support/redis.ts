import { createClient } from "redis";

export const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

async function redisReachable(): Promise<boolean> {
  const probe = createClient({ url: REDIS_URL, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.ping();
    await probe.close();
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether tests needing Redis can run: false (with a warning) when Redis is unreachable, and an
 * error instead under CI=true, where Redis must be there (a silently skipped suite proves nothing).
 */
export async function redisForTests(what: string): Promise<boolean> {
  const reachable = await redisReachable();
  if (!reachable && process.env.CI === "true") {
    throw new Error(`Redis at ${REDIS_URL} is unreachable, and CI=true requires it for the ${what}: start redis-server (see .ci/run) or set REDIS_URL`);
  }
  if (!reachable) console.warn(`${what} skipped: no Redis at ${REDIS_URL} (set REDIS_URL, or start redis-server)`);
  return reachable;
}

/** Deletes every key under `prefix` (a test's own namespace). */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const cleaner = createClient({ url: REDIS_URL });
  await cleaner.connect();
  for await (const keys of cleaner.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) if (keys.length > 0) await cleaner.del(keys);
  await cleaner.close();
}
