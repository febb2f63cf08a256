import { clusterKeys, DEFAULT_REDIS_KEY_PREFIX, namedExports, sortClusterMembers, type ClusterMember } from "@workforce/protocol";

/** The live gateways as the platform routes over them (decision 027). */
export interface GatewayMembers {
  /** The live members, at most `maxAgeMs` old; the last known list while Redis cannot be read. */
  list(): Promise<ClusterMember[]>;
  /** Re-reads at the next `list` (a member failed to answer: the list may be stale). */
  invalidate(): void;
  close(): Promise<void>;
}

export interface RedisGatewayMembersOptions {
  /** REDIS_URL, the same the gateways register in. */
  url: string;
  /** REDIS_KEY_PREFIX of the gateways. */
  keyPrefix?: string;
  /** How old a list may be before it is read again (default 1 s). */
  maxAgeMs?: number;
  logError: (message: string, error: unknown) => void;
  /** Milliseconds. */
  now?: () => number;
}

/**
 * Reads the gateways' registrations (`{p}members` and their liveness keys) the way the gateways
 * write them, pruning entries whose liveness key has expired. One read in flight at a time; the
 * redis module is loaded only when a platform is configured with REDIS_URL.
 */
export function createRedisGatewayMembers(options: RedisGatewayMembersOptions): GatewayMembers {
  const keys = clusterKeys(options.keyPrefix ?? DEFAULT_REDIS_KEY_PREFIX);
  const maxAgeMs = options.maxAgeMs ?? 1_000;
  const now = options.now ?? (() => Date.now());
  let lastError = 0;
  const report = (message: string, error: unknown) => {
    if (now() - lastError < 30_000) return;
    lastError = now();
    options.logError(`gateway membership (Redis): ${message}`, error);
  };
  const loading = import("redis").then((loaded) => {
    const { createClient } = namedExports(loaded, "createClient");
    const client = createClient({ url: options.url, disableOfflineQueue: true, socket: { connectTimeout: 5_000 } });
    client.on("error", (error: unknown) => report("connection problem", error));
    // Keeps reconnecting in the background; reads never wait for it beyond a moment.
    const ready = client.connect().then(
      () => undefined,
      (error: unknown) => report("cannot connect", error),
    );
    return { client, ready };
  });

  let firstWait: Promise<void> | undefined;
  /** The client once connected: the first read waits a moment for the first connection; later ones never wait for a Redis that is down. */
  async function connected() {
    const { client, ready } = await loading;
    if (client.isReady) return client;
    if (!firstWait) {
      let timer: NodeJS.Timeout | undefined;
      firstWait = Promise.race([ready, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]).finally(() => clearTimeout(timer));
    }
    await firstWait;
    if (!client.isReady) throw new Error("not connected");
    return client;
  }
  let known: ClusterMember[] = [];
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<ClusterMember[]> | undefined;

  async function read(): Promise<ClusterMember[]> {
    const client = await connected();
    const entries = Object.entries(await client.hGetAll(keys.members));
    const alive = await Promise.all(entries.map(async ([memberId]) => (await client.exists(keys.liveness(memberId))) === 1));
    const { live, dead } = sortClusterMembers(entries, alive);
    if (dead.length > 0) await client.hDel(keys.members, dead).catch((error: unknown) => report("could not prune dead members", error));
    return live;
  }

  return {
    async list() {
      if (now() - readAt < maxAgeMs) return known;
      reading ??= read()
        .then((live) => {
          known = live;
          readAt = now();
          return live;
        })
        .catch((error: unknown) => {
          report("cannot read the members; routing over the last known list", error);
          return known;
        })
        .finally(() => (reading = undefined));
      return reading;
    },
    invalidate() {
      readAt = Number.NEGATIVE_INFINITY;
    },
    async close() {
      const { client } = await loading;
      if (client.isReady) await client.close().catch(() => client.destroy());
      else if (client.isOpen) client.destroy();
    },
  };
}
