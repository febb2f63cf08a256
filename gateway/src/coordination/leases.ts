/**
 * Cross-process exclusion with fencing (docs/decisions/025). In cluster mode (REDIS_URL) a lease
 * lives in Redis; on one machine without Redis it is a lock file. Either way the holder gets a
 * fencing token that grows with every grant of the same key, so storage can refuse a write of an
 * ex-holder that stalled past its lease (its token is lower than one already written).
 */
export interface Lease {
  /** What is held, e.g. `run:{tenant}/{agent}/{sessionId}`. */
  readonly key: string;
  /** Strictly greater than the token of every earlier grant of this key (0 where fencing is not needed: one process). */
  readonly token: number;
  /** Aborted when the lease is lost (expired before renewal, taken over, or released). Writes must stop. */
  readonly lost: AbortSignal;
  /** True when the previous holder did not release it (crashed or stalled): what it guarded may be half-done. */
  readonly tookOver: boolean;
  /**
   * Whether this grant is still the current one, asked of the source of truth right before a fenced
   * write (Redis: one round trip, which also renews it; a lock file: answered from memory). False once lost or released.
   */
  confirm(): Promise<boolean>;
  /** Gives the lease up (idempotent); never throws. */
  release(): Promise<void>;
}

export interface LeaseWaitOptions {
  /** Give up after this long (storage_unavailable, retryable). */
  timeoutMs?: number;
  /** Stop waiting (rejecting with the signal's reason) when aborted. */
  signal?: AbortSignal;
}

export interface Leases {
  /** Waits for the lease on `key` and returns it held; renewed in the background until released or lost. */
  acquire(key: string, options?: LeaseWaitOptions): Promise<Lease>;
  /** The lease if it is free now, else undefined; never waits. */
  tryAcquire(key: string): Promise<Lease | undefined>;
  /** Who holds `key` now (the holder's member id), or undefined when nobody does. */
  holder(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}
