import { createClient } from "redis";

/**
 * A Redis connection as every coordination adapter opens it (REDIS_URL): no offline queue, so
 * while Redis is away commands fail at once instead of piling up in memory, and a bounded
 * connect time. Callers attach their own error listener (a client without one crashes the process).
 */
export function newRedisClient(url: string, onError: (error: unknown) => void) {
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 5_000 } });
  client.on("error", onError);
  return client;
}
export type RedisClient = ReturnType<typeof newRedisClient>;

/**
 * Settles when the first connection attempt has (`connecting`), or after `waitMs` at most,
 * whichever comes first; later awaits settle at once. Callers wait on it for the connection of a
 * process that just started, and fail fast afterwards while Redis is away.
 */
export function firstConnection(connecting: Promise<unknown>, waitMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, waitMs);
    timer.unref();
  });
  return Promise.race([connecting.then(() => undefined, () => undefined), waited]).finally(() => clearTimeout(timer));
}

/** The URL without its password, for log lines and error messages. */
export function redactedRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "REDIS_URL";
  }
}

export function describeRedisError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error);
}
