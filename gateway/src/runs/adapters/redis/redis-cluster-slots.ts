import { describeRedisError, firstConnection, newRedisClient, redactedRedisUrl, type RedisClient } from "../../../coordination/redis-connection";
import type { Logger } from "../../../logger";
import type { ClusterLimits, ClusterSlots, SlotHolder, SlotVerdict } from "../../cluster-slots";
import { tenantQueueFull, tooManyRuns } from "../../scheduler";

export interface RedisClusterSlotsOptions {
  /** REDIS_URL. */
  url: string;
  logger: Logger;
  /** Namespace of every key and channel (tests use their own); default `workforce:`. */
  keyPrefix?: string;
  /** A slot or waiting place not refreshed for this long is free again (its gateway died); default 15 s. */
  ttlMs?: number;
  /** Slow poll for slots that freed without a notice (expired); default 2 s. */
  pollMs?: number;
  /** Longest a call may take before the cluster counts are skipped for it; default 2 s. */
  callTimeoutMs?: number;
  /** Opens a connection (default: the shared factory); tests keep hold of it to cut it. */
  connect?: (url: string, onError: (error: unknown) => void) => RedisClient;
}

// Every script first drops the members whose expiry (score, Redis server time in ms) has passed,
// so clocks of the gateways never matter. Members are run ids.
const PRUNE = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[2])
for i = 1, #KEYS do redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now) end
local function hold(key)
  redis.call('ZADD', key, now + ttl, ARGV[1])
  redis.call('PEXPIRE', key, ttl)
end`;
// KEYS: tenant slots, waiting (all), waiting (tenant). ARGV: run, ttl, tenant cap, tenant queue bound, waiting bound.
const QUEUE = `${PRUNE}
local active = redis.call('ZCARD', KEYS[1])
local waiting = redis.call('ZCARD', KEYS[3])
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return {'ok', active, waiting} end
if waiting - math.max(0, tonumber(ARGV[3]) - active) >= tonumber(ARGV[4]) then return {'tenant', active, waiting} end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return {'total', active, waiting} end
hold(KEYS[2])
hold(KEYS[3])
return {'ok', active, waiting}`;
// KEYS: slots (all), slots (tenant), waiting (all), waiting (tenant). ARGV: run, ttl, cluster cap, tenant cap.
const TAKE = `${PRUNE}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 'cluster-full' end
  if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 'tenant-full' end
end
hold(KEYS[1])
hold(KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
return 'granted'`;
// KEYS: as TAKE. ARGV: run, channel. Tells the other gateways only when a slot freed.
const RELEASE = `
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZREM', KEYS[4], ARGV[1])
if redis.call('ZREM', KEYS[1], ARGV[1]) + redis.call('ZREM', KEYS[2], ARGV[1]) > 0 then redis.call('PUBLISH', ARGV[2], '1') end
return 0`;
const slotKeys = (prefix: string, tenantId: string) =>
  [`${prefix}slots:global`, `${prefix}slots:tenant:${tenantId}`, `${prefix}slots:queued:global`, `${prefix}slots:queued:tenant:${tenantId}`] as const;

/**
 * Frees the slot (or queue place) of a run whose gateway died, at once instead of when its TTL
 * runs out: the reaper and the gateway taking a dead process's runs over call it.
 */
export async function releaseDeadRunSlot(client: RedisClient, keyPrefix: string, tenantId: string, runId: string): Promise<void> {
  const keys = [`${keyPrefix}slots:global`, `${keyPrefix}slots:tenant:${tenantId}`, `${keyPrefix}slots:queued:global`, `${keyPrefix}slots:queued:tenant:${tenantId}`];
  await client.eval(RELEASE, { keys, arguments: [runId, `${keyPrefix}slots-freed`] });
}

// KEYS: every set this gateway holds members of. ARGV: ttl, then (key index, run) pairs. A member that
// expired while Redis was away is put back: the run still executes (or waits). A released one is never
// in the list: release removes it from the live map before its script goes out on the same connection.
const REFRESH = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do redis.call('ZADD', KEYS[tonumber(ARGV[i])], now + ttl, ARGV[i + 1]) end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
return 0`;

/**
 * Cluster-wide run slots in Redis sorted sets: `{prefix}slots:global` and
 * `{prefix}slots:tenant:{tenantId}` hold the running runs, `{prefix}slots:queued:global` and
 * `{prefix}slots:queued:tenant:{tenantId}` the waiting ones; member = run id, score = when it
 * expires. Each check-and-add is one script (atomic); every ttl/3 this gateway pushes the expiry of
 * all its members forward in one call, so a gateway that dies frees its slots within the ttl.
 * A release publishes on `{prefix}slots-freed`, waking the gateways whose runs wait for a slot.
 */
export function createRedisClusterSlots(options: RedisClusterSlotsOptions): ClusterSlots {
  const prefix = options.keyPrefix ?? "workforce:";
  const ttlMs = options.ttlMs ?? 15_000;
  const callTimeoutMs = options.callTimeoutMs ?? 2_000;
  const channel = `${prefix}slots-freed`;
  const keysOf = (tenantId: string) => slotKeys(prefix, tenantId);
  /** This gateway's members, refreshed until released. */
  const live = new Map<string, { tenantId: string; running: boolean }>();
  const listeners: (() => void)[] = [];
  const freed = () => listeners.forEach((listener) => listener());
  let lastWarning = 0;
  const warn = (message: string, error?: unknown) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    options.logger.warn(`run slots (Redis): ${message}${error === undefined ? "" : `: ${describeRedisError(error)}`}; this gateway's own limits apply meanwhile`);
  };
  const connect = options.connect ?? newRedisClient;
  const client = connect(options.url, (error) => warn("connection problem", error));
  const subscriber = connect(options.url, (error) => warn("subscriber connection problem", error));
  const ready = client.connect().then(
    () => undefined,
    (error: unknown) => warn(`cannot connect to ${redactedRedisUrl(options.url)}`, error),
  );
  const subscribed = subscriber
    .connect()
    .then(() => subscriber.subscribe(channel, freed))
    .catch((error: unknown) => warn("cannot subscribe to release notices", error));
  // Calls wait (once, 2 s at most) for the first connection of a gateway that just started, never for a Redis that is down.
  const started = firstConnection(ready, 2_000);

  /** One script call, bounded in time; undefined (and a warning) when Redis cannot answer. */
  async function call(what: string, script: string, keys: string[], args: string[]): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!client.isReady) await started;
      if (!client.isReady) throw new Error(`not connected to ${redactedRedisUrl(options.url)}`);
      const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${callTimeoutMs} ms`)), callTimeoutMs)));
      return await Promise.race([client.eval(script, { keys, arguments: args }), timeout]);
    } catch (error) {
      warn(`could not ${what}`, error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  function refresh(): void {
    if (live.size === 0 || !client.isReady) return;
    const keys: string[] = [];
    const index = new Map<string, number>();
    const args = [String(ttlMs)];
    const add = (key: string, runId: string) => {
      if (!index.has(key)) index.set(key, keys.push(key));
      args.push(String(index.get(key)), runId);
    };
    for (const [runId, member] of live) {
      const [slots, tenantSlots, waiting, tenantWaiting] = keysOf(member.tenantId);
      for (const key of member.running ? [slots, tenantSlots] : [waiting, tenantWaiting]) add(key, runId);
    }
    void call("refresh this gateway's slots", REFRESH, keys, args);
  }
  const refresher = setInterval(refresh, Math.max(50, Math.floor(ttlMs / 3)));
  refresher.unref();
  const poller = setInterval(freed, options.pollMs ?? 2_000);
  poller.unref();

  return {
    async queue(run, schedule, limits: ClusterLimits) {
      const [, tenantSlots, waiting, tenantWaiting] = keysOf(run.tenantId);
      const args = [run.runId, String(ttlMs), String(schedule.maxConcurrentRuns), String(schedule.maxQueuedRuns), String(limits.maxQueuedTotal)];
      const reply = await call("count a waiting run", QUEUE, [tenantSlots, waiting, tenantWaiting], args);
      if (!Array.isArray(reply)) return;
      const [verdict, active, held] = reply.map(String);
      if (verdict === "tenant") throw tenantQueueFull(Number(active), Number(held), schedule.maxQueuedRuns, "across the cluster");
      if (verdict === "total") throw tooManyRuns("the gateways have");
      live.set(run.runId, { tenantId: run.tenantId, running: false });
    },

    async take(run: SlotHolder, schedule, limits): Promise<SlotVerdict> {
      const args = [run.runId, String(ttlMs), String(limits.maxConcurrentRuns), String(schedule.maxConcurrentRuns)];
      // Released meanwhile (aborted while it asked): not kept alive afterwards.
      const member = live.get(run.runId) ?? { tenantId: run.tenantId, running: false };
      live.set(run.runId, member);
      const reply = await call("take a run slot", TAKE, [...keysOf(run.tenantId)], args);
      if (reply === "cluster-full" || reply === "tenant-full") return reply;
      if (live.get(run.runId) === member) member.running = true;
      return "granted";
    },

    release(run) {
      live.delete(run.runId);
      if (!client.isReady) return; // expires within the ttl
      void call("free a run slot", RELEASE, [...keysOf(run.tenantId)], [run.runId, channel]);
    },

    onFreed(listener) {
      listeners.push(listener);
    },

    async close() {
      clearInterval(refresher);
      clearInterval(poller);
      for (const connection of [subscriber, client]) {
        if (connection.isReady) await connection.close().catch(() => connection.destroy());
        else if (connection.isOpen) connection.destroy();
      }
      await Promise.allSettled([ready, subscribed]);
    },
  };
}
