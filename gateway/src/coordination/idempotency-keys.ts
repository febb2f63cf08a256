/**
 * Idempotency keys shared by every gateway of a cluster (REDIS_URL; docs/decisions/028): a retry
 * that lands on another gateway finds the run its first attempt started. A key is first claimed
 * for a short time while its submit is under way (the run has no status to find yet), then kept
 * for the run's life once it is queued. Without a cluster the run manager's own map is used.
 */
export interface IdempotencyKeys {
  /**
   * Claims `key` for `runId` while its submit is under way. Answers `claimed` when it is now ours,
   * otherwise who has it: `pending` while that run's submit is still under way. `stale` names a
   * kept run found gone (expired from the relay): its claim is replaced.
   */
  claim(key: IdempotencyKey, runId: string, stale?: string): Promise<IdempotencyClaim>;
  /**
   * The run is about to be queued: keeps the key for `ttlMs`. Answers the other run when ours
   * expired meanwhile and another submit claimed it (ours must then not start).
   */
  confirm(key: IdempotencyKey, runId: string, ttlMs: number): Promise<IdempotencyClaim>;
  /** The run ended: the key lives on only as long as the run stays replayable. Never throws. */
  ended(key: IdempotencyKey, runId: string, ttlMs: number): void;
  /** The submit failed before its run was queued: frees the key (if still ours). Never throws. */
  release(key: IdempotencyKey, runId: string): void;
  close(): Promise<void>;
}

export interface IdempotencyKey {
  tenantId: string;
  agent: string;
  key: string;
}

export type IdempotencyClaim = { claimed: true } | { claimed: false; runId: string; pending: boolean };

/** Keys whose implementation is imported only when a cluster is configured (like the run relay). */
export function lazyIdempotencyKeys(load: () => Promise<IdempotencyKeys>): IdempotencyKeys {
  const loading = load();
  loading.catch(() => undefined); // reported by the calls that need it
  const later = (call: (loaded: IdempotencyKeys) => void) => void loading.then(call, () => undefined);
  return {
    claim: async (key, runId, stale) => (await loading).claim(key, runId, stale),
    confirm: async (key, runId, ttlMs) => (await loading).confirm(key, runId, ttlMs),
    ended: (key, runId, ttlMs) => later((loaded) => loaded.ended(key, runId, ttlMs)),
    release: (key, runId) => later((loaded) => loaded.release(key, runId)),
    close: async () => (await loading).close(),
  };
}
