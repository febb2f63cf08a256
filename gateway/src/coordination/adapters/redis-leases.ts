import { setTimeout as delay } from "node:timers/promises";
import { AppError } from "@workforce/protocol";
import { z } from "zod";
import type { Logger } from "../../logger";
import type { Lease, Leases, LeaseWaitOptions } from "../leases";
import { describeRedisError, newRedisClient, redactedRedisUrl, type RedisClient } from "../redis-connection";

export interface RedisLeasesOptions {
  /** REDIS_URL; the leases open (and close) their own connection. Either this or `client`. */
  url?: string;
  /** A connection the caller opens and closes (shared with other adapters). */
  client?: RedisClient;
  /** This gateway's cluster identity, stored as the holder of what it leases. */
  memberId: string;
  logger: Logger;
  /** Namespace of every key (tests use their own); default `workforce:`. */
  keyPrefix?: string;
  /** How long a lease outlives its holder's last renewal (renewed every third of it); default 15 s. */
  ttlMs?: number;
  /** How long `acquire` waits when the caller sets no timeout; default 60 s. */
  waitTimeoutMs?: number;
  /**
   * How long the fencing counter and the "not released" marker of an idle key are kept; default 30 days.
   * Tokens start from Redis's clock in ms, so a counter that expired (or was lost) still restarts above every earlier token.
   */
  retentionMs?: number;
}

/**
 * Grants when nobody holds the key. The token is one more than the last one and at least Redis's
 * clock in milliseconds: strictly increasing per key, and still above every earlier token after the
 * counter expired or Redis lost its data (as long as a key is granted less than once per ms on average).
 * Returns nil when held, else { token, 1 when the previous grant was never released }.
 */
const GRANT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local token = string.format('%d', math.max(tonumber(redis.call('GET', KEYS[2]) or '0') + 1, ms))
local value = ARGV[1] .. ':' .. token
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
redis.call('SET', KEYS[2], token, 'PX', ARGV[3])
local open = redis.call('GET', KEYS[3])
redis.call('SET', KEYS[3], value, 'PX', ARGV[3])
if open then return {token, 1} end
return {token, 0}
`;

/** Extends the lease if it is still this grant's; 1 when it was, 0 when it is gone or someone else's. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/**
 * Deletes the lease while it is still this grant's, and with it the "not released" marker unless
 * ARGV[2] is '0' (a holder that lost the lease before finishing leaves it, so the next one knows).
 */
const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '0' then return redis.call('DEL', KEYS[1]) end
return redis.call('DEL', KEYS[1], KEYS[2])
`;

const GrantReply = z.tuple([z.string().regex(/^\d+$/), z.number()]).nullable();

/**
 * Leases on Redis (docs/decisions/025): `{p}lease:{key}` = `{memberId}:{token}` with a TTL, renewed
 * every ttl/3 by a compare-and-PEXPIRE; `{p}fence:{key}` the last token; `{p}lease-open:{key}` set
 * from grant to release, so the next holder learns that a holder crashed (`tookOver`). A lease is
 * lost (its signal aborts) when a renewal finds it gone or someone else's, or when Redis stays
 * unreachable until the TTL would have passed.
 */
export function createRedisLeases(options: RedisLeasesOptions): Leases {
  const prefix = options.keyPrefix ?? "workforce:";
  const ttlMs = options.ttlMs ?? 15_000;
  const waitTimeoutMs = options.waitTimeoutMs ?? 60_000;
  const retentionMs = options.retentionMs ?? 30 * 24 * 3_600_000;
  const where = options.url ? redactedRedisUrl(options.url) : "Redis";
  const owned = options.client === undefined;
  let lastWarning = 0;
  const warn = (message: string) => {
    if (Date.now() - lastWarning < 10_000) return;
    lastWarning = Date.now();
    options.logger.warn(`leases (${where}): ${message}`);
  };
  let client: RedisClient;
  if (options.client) client = options.client;
  else if (options.url) client = newRedisClient(options.url, (error) => warn(`connection problem: ${describeRedisError(error)}`));
  else throw new Error("createRedisLeases needs a url or a client");
  // Not awaited by calls: while Redis is away the client reconnects, and commands fail at once (no offline queue).
  if (owned) client.connect().catch((error: unknown) => warn(`cannot connect: ${describeRedisError(error)}`));
  const live = new Set<{ drop: (why: string) => void }>();

  const leaseKey = (key: string) => `${prefix}lease:${key}`;
  const fenceKey = (key: string) => `${prefix}fence:${key}`;
  const openKey = (key: string) => `${prefix}lease-open:${key}`;

  async function grant(key: string): Promise<Lease | undefined> {
    const sentAt = Date.now();
    const reply = GrantReply.parse(
      await client.eval(GRANT, { keys: [leaseKey(key), fenceKey(key), openKey(key)], arguments: [options.memberId, String(ttlMs), String(retentionMs)] }),
    );
    if (reply === null) return undefined;
    return held(key, Number(reply[0]), reply[1] === 1, sentAt);
  }

  /** A granted lease: renews itself until released or lost. `since` is when the grant was asked for. */
  function held(key: string, token: number, tookOver: boolean, since: number): Lease {
    const value = `${options.memberId}:${token}`;
    const controller = new AbortController();
    /** The lease is certainly ours until then: the last successful renewal was sent at `validFrom`. */
    let validFrom = since;
    let timer: NodeJS.Timeout | undefined;
    let released: Promise<void> | undefined;
    const entry = { drop: (why: string) => lose(why) };
    live.add(entry);

    function lose(why: string): void {
      if (timer) clearTimeout(timer);
      live.delete(entry);
      if (controller.signal.aborted) return;
      options.logger.warn(`lease ${key} (token ${token}) lost: ${why}`);
      controller.abort(new AppError("storage_unavailable", `lost the lease on ${key}: ${why}`, { retryable: true }));
    }

    /** One compare-and-PEXPIRE; true while the lease is ours, undefined when Redis did not answer. */
    async function renew(): Promise<boolean | undefined> {
      const sentAt = Date.now();
      try {
        const renewed = (await client.eval(RENEW, { keys: [leaseKey(key)], arguments: [value, String(ttlMs)] })) === 1;
        if (renewed) validFrom = Math.max(validFrom, sentAt);
        else lose("it expired or another holder has it");
        return renewed;
      } catch (error) {
        warn(`could not renew lease ${key}: ${describeRedisError(error)}`);
        return undefined;
      }
    }

    function schedule(delayMs: number): void {
      timer = setTimeout(() => {
        void renew().then((renewed) => {
          if (controller.signal.aborted || released) return;
          const left = validFrom + ttlMs - Date.now();
          if (left <= 0) return lose(`Redis unreachable for ${ttlMs} ms`);
          // Unanswered: try again soon, but never past the moment the lease would expire.
          schedule(renewed ? Math.floor(ttlMs / 3) : Math.min(left, Math.max(10, Math.floor(ttlMs / 10))));
        });
      }, delayMs);
      timer.unref();
    }
    schedule(Math.floor(ttlMs / 3));

    return {
      key,
      token,
      tookOver,
      lost: controller.signal,
      async confirm() {
        if (controller.signal.aborted || released) return false;
        const renewed = await renew();
        // Redis did not answer: still ours while the last renewal's TTL runs (nobody else can be granted it before).
        return renewed ?? (!controller.signal.aborted && Date.now() < validFrom + ttlMs);
      },
      release() {
        released ??= (async () => {
          if (timer) clearTimeout(timer);
          live.delete(entry);
          const wasLost = controller.signal.aborted;
          if (!wasLost) controller.abort(new AppError("storage_unavailable", `released the lease on ${key}`, { retryable: true }));
          try {
            // Lost (as judged here, Redis may still hold it): free the key sooner, but keep the take-over marker.
            await client.eval(RELEASE, { keys: [leaseKey(key), openKey(key)], arguments: [value, wasLost ? "0" : "1"] });
          } catch (error) {
            // It expires on its own after the TTL; the next holder then sees tookOver.
            warn(`could not release lease ${key}: ${describeRedisError(error)}`);
          }
        })();
        return released;
      },
    };
  }

  function unreachable(error: unknown): AppError {
    return new AppError("storage_unavailable", "the cluster's coordination store (Redis) is unreachable; try again shortly", { retryable: true, cause: error });
  }

  return {
    async acquire(key, wait: LeaseWaitOptions = {}) {
      const limit = wait.timeoutMs ?? waitTimeoutMs;
      const started = Date.now();
      let delay = 2;
      let lastError: unknown;
      for (;;) {
        wait.signal?.throwIfAborted();
        try {
          const lease = await grant(key);
          if (lease) return lease;
          lastError = undefined;
        } catch (error) {
          lastError = error;
        }
        if (Date.now() - started >= limit) {
          if (lastError !== undefined) throw unreachable(lastError);
          options.logger.warn(`timed out after ${limit} ms waiting for lease ${key}, held by ${(await holderOf(key).catch(() => undefined)) ?? "nobody now"}`);
          throw new AppError("storage_unavailable", `timed out after ${limit} ms waiting for another gateway process to finish with this data; try again shortly`, { retryable: true });
        }
        await abortableSleep(Math.min(delay + Math.random() * delay, Math.max(1, limit - (Date.now() - started))), wait.signal);
        delay = Math.min(delay * 2, 50);
      }
    },

    async tryAcquire(key) {
      try {
        return await grant(key);
      } catch (error) {
        throw unreachable(error);
      }
    },

    holder: (key) =>
      holderOf(key).catch((error: unknown) => {
        throw unreachable(error);
      }),

    async close() {
      for (const entry of [...live]) entry.drop("the gateway is shutting down");
      if (!owned) return;
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy(); // still trying to reach Redis
    },
  };

  async function holderOf(key: string): Promise<string | undefined> {
    const value = await client.get(leaseKey(key));
    if (value === null) return undefined;
    const colon = value.lastIndexOf(":");
    return colon < 0 ? value : value.slice(0, colon);
  }
}

async function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    signal?.throwIfAborted(); // with the caller's reason, not the timer's AbortError
    throw error;
  }
}
