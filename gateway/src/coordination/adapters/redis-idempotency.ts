import type { Logger } from "../../logger";
import type { IdempotencyClaim, IdempotencyKey, IdempotencyKeys } from "../idempotency-keys";
import { describeRedisError, firstConnection, newRedisClient, redactedRedisUrl, type RedisClient } from "../redis-connection";

export interface RedisIdempotencyOptions {
  /** REDIS_URL. */
  url: string;
  logger: Logger;
  /** Namespace of every key (tests use their own); default `workforce:`. */
  keyPrefix?: string;
  /** How long a claim lasts while its submit is under way; a gateway that dies meanwhile blocks the key this long. Default 30 s. */
  claimTtlMs?: number;
  /** Opens the connection (default: the shared factory); tests keep hold of it to cut it. */
  connect?: (url: string, onError: (error: unknown) => void) => RedisClient;
}

// Values: `p:{runId}` while the run's submit is under way, `r:{runId}` once the run is queued.
const CLAIM = `
local v = redis.call('GET', KEYS[1])
if (not v) or v == ARGV[1] or (ARGV[3] ~= '' and v == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return false
end
return v`;
const CONFIRM = `
local v = redis.call('GET', KEYS[1])
if (not v) or v == ARGV[1] or v == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return false
end
return v`;
const EXPIRE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const DELETE_IF = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

const pending = (runId: string) => `p:${runId}`;
const kept = (runId: string) => `r:${runId}`;

function claimOf(reply: unknown): IdempotencyClaim {
  if (typeof reply !== "string") return { claimed: true }; // nil: the key was free, now ours
  const value = reply;
  return { claimed: false, runId: value.slice(2), pending: value.startsWith("p:") };
}

/**
 * Idempotency keys in Redis: `{prefix}idem:{tenantId}/{agent}/{key}` holds the run id, set only
 * when absent (or when it is this run's own claim), each step one script so two gateways claiming
 * one key at once get exactly one winner. Calls fail fast while Redis is away; the caller decides.
 */
export function createRedisIdempotencyKeys(options: RedisIdempotencyOptions): IdempotencyKeys {
  const prefix = options.keyPrefix ?? "workforce:";
  const claimTtlMs = options.claimTtlMs ?? 30_000;
  let lastWarning = 0;
  const warn = (message: string, error: unknown) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    options.logger.warn(`idempotency keys (Redis): ${message}: ${describeRedisError(error)}`);
  };
  const client = (options.connect ?? newRedisClient)(options.url, (error) => warn("connection problem", error));
  const ready = client.connect().then(
    () => undefined,
    (error: unknown) => warn(`cannot connect to ${redactedRedisUrl(options.url)}`, error),
  );
  const redisKey = (key: IdempotencyKey) => `${prefix}idem:${key.tenantId}/${key.agent}/${key.key}`;
  // Calls wait (once, 2 s at most) for the first connection of a gateway that just started, never for a Redis that is down.
  const started = firstConnection(ready, 2_000);

  async function connected(): Promise<void> {
    if (!client.isReady) await started;
    if (!client.isReady) throw new Error(`not connected to ${redactedRedisUrl(options.url)}`);
  }

  /** One script call; a failure is logged (at most once per 30 s) and thrown. */
  const run = async (what: string, script: string, key: IdempotencyKey, args: string[]) => {
    try {
      await connected();
      return await client.eval(script, { keys: [redisKey(key)], arguments: args });
    } catch (error) {
      warn(`could not ${what}; keys are checked on this gateway only meanwhile`, error);
      throw error;
    }
  };
  const fireAndForget = (what: string, script: string, key: IdempotencyKey, args: string[]) => {
    run(what, script, key, args).catch(() => undefined);
  };

  return {
    async claim(key, runId, stale) {
      return claimOf(await run("claim a key", CLAIM, key, [pending(runId), String(claimTtlMs), stale === undefined ? "" : kept(stale)]));
    },
    async confirm(key, runId, ttlMs) {
      return claimOf(await run("keep a key", CONFIRM, key, [pending(runId), kept(runId), String(ttlMs)]));
    },
    ended(key, runId, ttlMs) {
      fireAndForget("shorten an ended run's key", EXPIRE_IF, key, [kept(runId), String(ttlMs)]);
    },
    release(key, runId) {
      fireAndForget("free the key of a submit that failed", DELETE_IF, key, [pending(runId)]);
    },
    async close() {
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
      await ready;
    },
  };
}
