import { clusterKeys, DEFAULT_REDIS_KEY_PREFIX, sortClusterMembers, type ClusterMember } from "@workforce/protocol";
import type { Logger } from "../../logger";
import type { Membership } from "../membership";
import { describeRedisError, newRedisClient, redactedRedisUrl } from "../redis-connection";

export interface RedisMembershipOptions {
  /** REDIS_URL. */
  url: string;
  memberId: string;
  logger: Logger;
  /** How long a member stays listed after its last heartbeat (default 10 s); heartbeats come every third of it. */
  ttlMs?: number;
  /** Namespace of every key (REDIS_KEY_PREFIX; tests use their own). */
  keyPrefix?: string;
  now?: () => Date;
}

export const DEFAULT_MEMBER_TTL_MS = 10_000;

/**
 * Membership in Redis: `{p}members` (HASH memberId → JSON {memberId, url, startedAt}) and a
 * liveness key `{p}member:{memberId}` with a TTL. Every heartbeat writes both, so an entry pruned
 * while Redis or this process was slow comes back at the next one. Readers prune entries whose
 * liveness key has expired: a SIGKILLed gateway disappears from the list within the TTL.
 */
export function createRedisMembership(options: RedisMembershipOptions): Membership {
  const ttlMs = options.ttlMs ?? DEFAULT_MEMBER_TTL_MS;
  const keys = clusterKeys(options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX);
  const now = options.now ?? (() => new Date());
  let lastWarning = 0;
  const warn = (message: string, error: unknown) => {
    if (Date.now() - lastWarning < 30_000) return;
    lastWarning = Date.now();
    options.logger.warn(`cluster membership (Redis ${redactedRedisUrl(options.url)}): ${message}: ${describeRedisError(error)}`);
  };
  const client = newRedisClient(options.url, (error) => warn("connection problem", error));
  // Connected once; while Redis is away commands fail at once (no offline queue) and are retried by the next heartbeat or read.
  const ready = client.connect().then(
    () => undefined,
    (error: unknown) => warn("cannot connect", error),
  );
  let firstWait: Promise<void> | undefined;
  /** Waits a little for the first connection (a gateway that just started) once, never again for a Redis that is down. */
  async function connected(): Promise<void> {
    if (client.isReady) return;
    if (!firstWait) {
      let timer: NodeJS.Timeout | undefined;
      firstWait = Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]).finally(() => clearTimeout(timer));
    }
    await firstWait;
    if (!client.isReady) throw new Error("not connected");
  }
  let self: ClusterMember | undefined;
  let timer: NodeJS.Timeout | undefined;
  let left = false;
  let beating: Promise<void> = Promise.resolve();

  async function writeSelf(): Promise<void> {
    if (!self || left) return;
    await connected();
    await client.multi().hSet(keys.members, self.memberId, JSON.stringify(self)).set(keys.liveness(self.memberId), "1", { PX: ttlMs }).exec();
  }
  /** One heartbeat at a time, awaited by `leave` so none lands after the unregistration. */
  function heartbeat(): Promise<void> {
    beating = beating.then(writeSelf).catch((error: unknown) => warn("heartbeat failed (others stop routing here once the liveness key expires)", error));
    return beating;
  }

  return {
    memberId: options.memberId,
    clustered: true,
    async join(url) {
      self = { memberId: options.memberId, url, startedAt: now().toISOString() };
      // A Redis that is down does not stop the gateway from starting: it joins at the first heartbeat that works.
      await heartbeat();
      timer = setInterval(() => void heartbeat(), Math.max(1, Math.floor(ttlMs / 3)));
      timer.unref();
    },
    async members() {
      await connected();
      const entries = Object.entries(await client.hGetAll(keys.members));
      if (entries.length === 0) return [];
      const alive = await Promise.all(entries.map(async ([memberId]) => (await client.exists(keys.liveness(memberId))) === 1));
      const { live, dead } = sortClusterMembers(entries, alive);
      if (dead.length > 0) await client.hDel(keys.members, dead).catch((error: unknown) => warn("could not prune dead members", error));
      return live;
    },
    async leave() {
      left = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await beating;
      try {
        if (self && client.isReady) await client.multi().hDel(keys.members, self.memberId).del(keys.liveness(self.memberId)).exec();
      } catch (error) {
        warn("could not unregister (others drop this gateway when its liveness key expires)", error);
      }
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
      await ready;
    },
  };
}
