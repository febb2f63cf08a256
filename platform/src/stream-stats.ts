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
  /**
   * Streams opening and closing are published at most once per this many milliseconds (coalesced
   * to the end of the gap): under load that is a write a second, not two per message. Default 1 s.
   */
  publishGapMs?: number;
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
  let lastPublishAt = Number.NEGATIVE_INFINITY;
  let soon: ReturnType<typeof setTimeout> | undefined;
  const gapMs = options.publishGapMs ?? 1_000;

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

  /**
   * A stream opened or closed: published at once when nothing was published for a gap, else once
   * at the end of the gap, all changes since together. Under load that is one write a second,
   * whatever the message rate (at one stream at a time every message opened and closed a tenant's
   * only stream, which used to publish twice per message); other instances see a change at most
   * a gap late, this one at once (`snapshot` publishes first).
   */
  const publishSoon = () => {
    if (stopped || !timer) return;
    if (soon) return;
    // Only publishes caused by streams count towards the gap: a heartbeat that just went out
    // must not delay the news of a stream opening.
    const wait = lastPublishAt + gapMs - performance.now();
    if (wait <= 0) {
      lastPublishAt = performance.now();
      void flush();
      return;
    }
    soon = setTimeout(() => {
      soon = undefined;
      lastPublishAt = performance.now();
      void flush();
    }, wait);
    soon.unref();
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
      if (soon) clearTimeout(soon);
      soon = undefined;
      timer = undefined;
      await inFlight;
      await store.remove(instanceId).catch(() => undefined);
    },

    /** Call when a stream opens; the returned function closes it (idempotent). */
    open(tenantId: string, kind: "start" | "resume"): () => void {
      const before = openByTenant.get(tenantId) ?? 0;
      openByTenant.set(tenantId, before + 1);
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
