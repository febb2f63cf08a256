/** Counters for /api/stream/stats. In-process: each platform instance reports its own streams. */
export interface StreamStatsSnapshot {
  openStreams: number;
  /** Open streams of the caller's tenant only: other tenants' ids are not revealed. */
  tenantOpenStreams: number;
  tenantsStreaming: number;
  streamsStarted: number;
  eventsSent: number;
  resumes: number;
  ttftMs: { median: number | null; p95: number | null; samples: number };
}

const MAX_SAMPLES = 1000;

export function createStreamStats() {
  const openByTenant = new Map<string, number>();
  const ttftSamples: number[] = [];
  let streamsStarted = 0;
  let eventsSent = 0;
  let resumes = 0;

  function percentile(sorted: number[], fraction: number): number | null {
    if (sorted.length === 0) return null;
    const index = Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1);
    return sorted[Math.max(0, index)] ?? null;
  }

  return {
    /** Call when a stream opens; the returned function closes it (idempotent). */
    open(tenantId: string, kind: "start" | "resume"): () => void {
      openByTenant.set(tenantId, (openByTenant.get(tenantId) ?? 0) + 1);
      if (kind === "start") streamsStarted += 1;
      else resumes += 1;
      let closed = false;
      return () => {
        if (closed) return;
        closed = true;
        const left = (openByTenant.get(tenantId) ?? 1) - 1;
        if (left <= 0) openByTenant.delete(tenantId);
        else openByTenant.set(tenantId, left);
      };
    },
    eventSent(): void {
      eventsSent += 1;
    },
    firstToken(milliseconds: number): void {
      ttftSamples.push(milliseconds);
      if (ttftSamples.length > MAX_SAMPLES) ttftSamples.shift();
    },
    snapshot(tenantId: string): StreamStatsSnapshot {
      const sorted = [...ttftSamples].sort((a, b) => a - b);
      let openStreams = 0;
      for (const count of openByTenant.values()) openStreams += count;
      return {
        openStreams,
        tenantOpenStreams: openByTenant.get(tenantId) ?? 0,
        tenantsStreaming: openByTenant.size,
        streamsStarted,
        eventsSent,
        resumes,
        ttftMs: { median: percentile(sorted, 0.5), p95: percentile(sorted, 0.95), samples: sorted.length },
      };
    },
  };
}

export type StreamStats = ReturnType<typeof createStreamStats>;
