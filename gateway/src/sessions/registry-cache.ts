/** What the cache does with values it loads and drops. */
export interface RegistryCacheOptions<T> {
  /** Most values kept once nobody uses them; values in use are never evicted, so the cache may exceed this while they are. */
  maxEntries: number;
  load(key: string): Promise<T>;
  /** Persists and releases an evicted value (or every value at shutdown); it reports its own failures. */
  unload(key: string, value: T): Promise<void>;
  /** Releases a value whose data is being deleted, without persisting it. */
  discard(key: string, value: T): void;
}

interface Entry<T> {
  value: Promise<T>;
  /** Operations and runs currently using the value; only entries at 0 may be evicted. */
  pins: number;
}

/**
 * A least-recently-used cache of loaded values (an agent's session registry) with pinning. A value
 * is pinned while an operation or an active run uses it, and only unpinned values are evicted, so a
 * registry is never unloaded under a run. An evicted value is unloaded (flushed) before the same
 * key can be loaded again, so one process never holds two copies of a registry.
 */
export class RegistryCache<T> {
  /** Map order is recency: the first key is the least recently used. */
  private readonly entries = new Map<string, Entry<T>>();
  private readonly unloading = new Map<string, Promise<void>>();

  constructor(private readonly options: RegistryCacheOptions<T>) {}

  /** Runs `task` with the value for `key`, loading it if needed and keeping it pinned meanwhile. */
  async use<R>(key: string, task: (value: T) => Promise<R> | R): Promise<R> {
    const release = this.pinEntry(key);
    try {
      return await task(await release.value);
    } finally {
      release.release();
    }
  }

  /** Keeps `key` loaded until the returned function is called (an active or queued run). */
  async pin(key: string): Promise<() => void> {
    const pinned = this.pinEntry(key);
    try {
      await pinned.value;
    } catch (error) {
      pinned.release();
      throw error;
    }
    return pinned.release;
  }

  /** Drops `key` without persisting it (its data is being deleted, e.g. a deleted agent). */
  forget(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    entry.value.then((value) => this.options.discard(key, value)).catch(() => undefined);
  }

  /**
   * Drops every key `match` accepts without persisting it (a tenant being erased), and waits until
   * each is discarded and any eviction of a matching key that was already writing it out has finished.
   */
  async forgetWhere(match: (key: string) => boolean): Promise<void> {
    const dropped: Promise<unknown>[] = [];
    for (const [key, entry] of [...this.entries]) {
      if (!match(key)) continue;
      this.entries.delete(key);
      dropped.push(entry.value.then((value) => this.options.discard(key, value)).catch(() => undefined));
    }
    for (const [key, unloading] of this.unloading) if (match(key)) dropped.push(unloading);
    await Promise.all(dropped);
  }

  /** Unloads every value (shutdown); values loaded afterwards stay until the next call. */
  async unloadAll(): Promise<void> {
    for (const [key, entry] of [...this.entries]) {
      this.entries.delete(key);
      this.startUnload(key, entry);
    }
    await Promise.all(this.unloading.values());
  }

  /** Counts for tests and diagnostics. */
  stats(): { loaded: number; pinned: number; unloading: number } {
    let pinned = 0;
    for (const entry of this.entries.values()) if (entry.pins > 0) pinned += 1;
    return { loaded: this.entries.size, pinned, unloading: this.unloading.size };
  }

  private pinEntry(key: string): { value: Promise<T>; release: () => void } {
    let entry = this.entries.get(key);
    if (entry) {
      this.entries.delete(key);
    } else {
      const previous = this.unloading.get(key) ?? Promise.resolve();
      const value = previous.then(() => this.options.load(key));
      const created: Entry<T> = { value, pins: 0 };
      entry = created;
      value.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key);
      });
    }
    this.entries.set(key, entry);
    entry.pins += 1;
    const pinned = entry;
    let released = false;
    return {
      value: entry.value,
      release: () => {
        if (released) return;
        released = true;
        pinned.pins -= 1;
        this.trim();
      },
    };
  }

  private trim(): void {
    if (this.entries.size <= this.options.maxEntries) return;
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.options.maxEntries) return;
      if (entry.pins > 0) continue;
      this.entries.delete(key);
      this.startUnload(key, entry);
    }
  }

  private startUnload(key: string, entry: Entry<T>): void {
    const previous = this.unloading.get(key) ?? Promise.resolve();
    const done: Promise<void> = previous
      .then(() => entry.value)
      .then(
        (value) => this.options.unload(key, value),
        () => undefined, // it never loaded: nothing to persist
      )
      .catch(() => undefined) // unload reports its own failures; a later load reads whatever reached the disk
      .finally(() => {
        if (this.unloading.get(key) === done) this.unloading.delete(key);
      });
    this.unloading.set(key, done);
  }
}
