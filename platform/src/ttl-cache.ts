/**
 * A small bounded map whose entries expire: least recently used entries are dropped first once
 * `maxEntries` is reached. Time comes from the caller (milliseconds), so tests need no timers.
 */
export class TtlCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** The live value, or undefined when absent or expired (an expired entry is removed). */
  get(key: K, now: number): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= now) return undefined;
    // Re-inserting moves the entry to the end: Map keeps insertion order, the front is the eldest.
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V, expiresAt: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt });
    while (this.entries.size > this.maxEntries) {
      const eldest = this.entries.keys().next();
      if (eldest.done) break;
      this.entries.delete(eldest.value);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Removes every entry whose value matches. O(n): for rare invalidations only. */
  deleteWhere(matches: (value: V, key: K) => boolean): void {
    for (const [key, entry] of this.entries) if (matches(entry.value, key)) this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * Concurrent loads of one key share one promise: when a cache entry expires under load, the burst
 * of requests that miss it costs one database read, not one each queued behind the others (at
 * c=100 on one connection, each cache's expiry every few seconds stalled requests for up to a second).
 */
export class SingleFlight<K, V> {
  private readonly loading = new Map<K, Promise<V>>();

  run(key: K, load: () => Promise<V>): Promise<V> {
    const under = this.loading.get(key);
    if (under) return under;
    const promise: Promise<V> = load().finally(() => {
      if (this.loading.get(key) === promise) this.loading.delete(key);
    });
    this.loading.set(key, promise);
    return promise;
  }

  /** Later calls load afresh (after an invalidation), while the load under way still answers its own callers. */
  forget(key: K): void {
    this.loading.delete(key);
  }

  clear(): void {
    this.loading.clear();
  }
}
