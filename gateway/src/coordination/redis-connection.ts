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
