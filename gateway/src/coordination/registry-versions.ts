/**
 * Where a session registry is (docs/decisions/026): bumped by the holder of its `registry:` lease
 * after every change, so other gateways catch up by comparing this, not file metadata, which NFS
 * may serve from a stale attribute cache.
 */
export interface RegistryVersion {
  /** Bumped by every compaction (sessions.json rewritten, journal emptied). */
  generation: number;
  /** The journal's length in bytes as of the last change: lines past it were not written by a holder of the lease. */
  journalBytes: number;
  /** Lines in the journal up to `journalBytes` (drives compaction). */
  journalLines: number;
  /** The fencing token of the writer that recorded this version. */
  fence: number;
}

export interface RegistryVersions {
  /** The version of the registry `{tenantId}/{agent}`, or undefined when none was recorded. */
  get(registry: string): Promise<RegistryVersion | undefined>;
  /** Records `version`; false (nothing recorded) when a version with a newer fence is already there. */
  record(registry: string, version: RegistryVersion): Promise<boolean>;
  close(): Promise<void>;
}

/** Versions whose implementation is imported on first use (a single gateway never loads the Redis client). */
export function lazyRegistryVersions(load: () => Promise<RegistryVersions>): RegistryVersions {
  let loading: Promise<RegistryVersions> | undefined;
  const loaded = () => (loading ??= load());
  return {
    get: async (registry) => (await loaded()).get(registry),
    record: async (registry, version) => (await loaded()).record(registry, version),
    close: async () => {
      if (loading) await (await loading).close();
    },
  };
}

export function sameVersion(a: RegistryVersion | undefined, b: RegistryVersion | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.generation === b.generation && a.journalBytes === b.journalBytes && a.journalLines === b.journalLines && a.fence === b.fence;
}
