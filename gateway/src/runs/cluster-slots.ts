import type { TenantSchedule } from "./scheduler";

/** A run as the cluster's slot counts know it. */
export interface SlotHolder {
  runId: string;
  tenantId: string;
}

/** Whether a run may start now: a slot is free, or the cluster's or its tenant's runs are all taken. */
export type SlotVerdict = "granted" | "cluster-full" | "tenant-full";

export interface ClusterLimits {
  /** WORKFORCE_MAX_CONCURRENT_RUNS, across the cluster. */
  maxConcurrentRuns: number;
  /** Runs waiting across the cluster; more get too_many_runs. */
  maxQueuedTotal: number;
}

/**
 * Run slots and waiting places counted across every gateway of a cluster (REDIS_URL;
 * docs/decisions/028), so WORKFORCE_MAX_CONCURRENT_RUNS and each tenant's maxConcurrentRuns and
 * maxQueuedRuns hold for the cluster, not per process. The fairness between tenants stays each
 * gateway's scheduler's: it asks `take` for the run it picked. A slot or place outlives a gateway
 * that died by its time to live at most. While the store is unreachable every call answers as if
 * the cluster had room (each gateway's own limits still apply), with a logged warning.
 */
export interface ClusterSlots {
  /**
   * Counts a run about to wait in a tenant's queue; throws 429 tenant_queue_full or too_many_runs
   * when the tenant's or the cluster's waiting runs are at their bound.
   */
  queue(run: SlotHolder, schedule: TenantSchedule, limits: ClusterLimits): Promise<void>;
  /** A slot for a waiting run the scheduler picked; `granted` moves it from waiting to running. */
  take(run: SlotHolder, schedule: TenantSchedule, limits: ClusterLimits): Promise<SlotVerdict>;
  /** The run ended or left its queue: frees its slot or place, and tells the other gateways. Never throws. */
  release(run: SlotHolder): void;
  /** Called when a slot may have freed on any gateway (a release notice, or the slow poll). */
  onFreed(listener: () => void): void;
  close(): Promise<void>;
}

/** Slots whose implementation is imported only when a cluster is configured (like the run relay). */
export function lazyClusterSlots(load: () => Promise<ClusterSlots>): ClusterSlots {
  let slots: ClusterSlots | undefined;
  let queued: ((loaded: ClusterSlots) => void)[] = [];
  const loading = load().then((loaded) => {
    slots = loaded;
    for (const call of queued) call(loaded);
    queued = [];
    return loaded;
  });
  loading.catch(() => undefined); // reported by the calls that need it
  const later = (call: (loaded: ClusterSlots) => void) => {
    if (slots) call(slots);
    else queued.push(call);
  };
  return {
    queue: async (run, schedule, limits) => (await loading).queue(run, schedule, limits),
    take: async (run, schedule, limits) => (await loading).take(run, schedule, limits),
    release: (run) => later((loaded) => loaded.release(run)),
    onFreed: (listener) => later((loaded) => loaded.onFreed(listener)),
    close: async () => (await loading).close(),
  };
}
