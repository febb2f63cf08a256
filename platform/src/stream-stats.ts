import type { InstanceReport, StreamStatsStore } from "./db/stream-stats-store";

/** The answer of `GET /api/stream/stats`: figures of every live platform process together. */
export interface StreamStatsSnapshot {
  /** Open streams across the cluster. */
  openStreams: number;
  /** Open streams of the caller's tenant only: other tenants' ids and counts are not revealed. */
  tenantOpenStreams: number;
  /** How many tenants have a stream open (a number, never which). */
  tenantsStreaming: number;
  /** Since each live instance started. */
  streamsStarted: number;
  eventsSent: number;
  resumes: number;
  /** Time to first token over the recent window, all instances' samples together. */
  ttftMs: { median: number | null; p95: number | null; samples: number; windowSeconds: number };
  /** The instance that answered. */
  instanceId: string;
  /** Every live instance (heartbeat fresh), oldest first. */
  instances: InstanceReport[];
}

export interface StreamStatsOptions {
  store: StreamStatsStore;
  /** A random id per process. */
  instanceId: string;
  /** How often counters are published (the heartbeat); streams opening and closing also publish. Default 3 s. */
  publishIntervalMs?: number;
  /** Where a failing publish is reported (once, until it works again). */
  logError: (message: string, error: unknown) => void;
}

/** TTFT samples kept in memory while the database is unreachable. */
const MAX_PENDING_SAMPLES = 1000;

/**
 * Counts this process's streams in memory (cheap, synchronous, on the streaming path) and
 * publishes them to the database: every few seconds and whenever a stream opens or closes.
 * The stats route then sums every live instance, so any process behind the load balancer
 * gives the same cluster-wide answer.
 */
export function createStreamStats(options: StreamStatsOptions) {
  const { store, instanceId } = options;
  const openByTenant = new Map<string, number>();
  let pendingSamples: number[] = [];
  let streamsStarted = 0;
  let eventsSent = 0;
  let resumes = 0;
  let timer: ReturnType<typeof setInterval> | undefined;
  let inFlight: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let failing = false;

  async function publishOnce(): Promise<void> {
    const samples = pendingSamples;
    pendingSamples = [];
    try {
      await store.publish({ instanceId, openByTenant: new Map(openByTenant), streamsStarted, eventsSent, resumes, newTtftSamples: samples });
      failing = false;
    } catch (error) {
      pendingSamples = [...samples, ...pendingSamples].slice(-MAX_PENDING_SAMPLES);
      if (!failing && !stopped) options.logError("could not publish stream statistics", error);
      failing = true;
    }
  }

  /** Publishes now; calls made while a publish runs coalesce into one more publish after it. */
  function flush(): Promise<void> {
    if (stopped) return Promise.resolve();
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        again = false;
        await publishOnce();
      } while (again && !stopped);
    })().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  const publishSoon = () => {
    if (!stopped && timer) void flush();
  };

  return {
    instanceId,

    /** Starts the heartbeat. */
    start(): void {
      if (timer || stopped) return;
      timer = setInterval(() => void flush(), options.publishIntervalMs ?? 3_000);
      timer.unref();
      void flush();
    },

    /** Stops publishing and removes this instance from the cluster figures. */
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      await inFlight;
      await store.remove(instanceId).catch(() => undefined);
    },

    /** Call when a stream opens; the returned function closes it (idempotent). */
    open(tenantId: string, kind: "start" | "resume"): () => void {
      openByTenant.set(tenantId, (openByTenant.get(tenantId) ?? 0) + 1);
      if (kind === "start") streamsStarted += 1;
      else resumes += 1;
      publishSoon();
      let closed = false;
      return () => {
        if (closed) return;
        closed = true;
        const left = (openByTenant.get(tenantId) ?? 1) - 1;
        if (left <= 0) openByTenant.delete(tenantId);
        else openByTenant.set(tenantId, left);
        publishSoon();
      };
    },

    eventSent(): void {
      eventsSent += 1;
    },

    firstToken(milliseconds: number): void {
      pendingSamples.push(milliseconds);
      if (pendingSamples.length > MAX_PENDING_SAMPLES) pendingSamples.shift();
    },

    flush,

    /** The cluster's figures; this instance publishes first, so its own latest counts are included. */
    async snapshot(tenantId: string): Promise<StreamStatsSnapshot> {
      await flush();
      const cluster = await store.read(tenantId);
      const sum = (pick: (instance: InstanceReport) => number) => cluster.instances.reduce((total, instance) => total + pick(instance), 0);
      return {
        openStreams: sum((instance) => instance.openStreams),
        tenantOpenStreams: sum((instance) => instance.tenantOpenStreams),
        tenantsStreaming: cluster.tenantsStreaming,
        streamsStarted: sum((instance) => instance.streamsStarted),
        eventsSent: sum((instance) => instance.eventsSent),
        resumes: sum((instance) => instance.resumes),
        ttftMs: cluster.ttftMs,
        instanceId,
        instances: cluster.instances,
      };
    },
  };
}

export type StreamStats = ReturnType<typeof createStreamStats>;
