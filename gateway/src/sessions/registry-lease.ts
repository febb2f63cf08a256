import { assertFence, fencedOut } from "../coordination/fencing";
import type { Lease, Leases } from "../coordination/leases";
import { sameVersion, type RegistryVersion, type RegistryVersions } from "../coordination/registry-versions";
import { KeyedLock } from "../fs/keyed-lock";

/** How the refusal of a fenced-out write names what it could not write (no paths for the client). */
const WHAT = "this agent's session registry";

/**
 * Cluster mode (REDIS_URL, docs/decisions/026): the registry's writer holds the lease
 * `registry:{name}` instead of the lock file, stamps its fencing token on everything it writes,
 * and records the registry's version in `versions`, which other gateways compare instead of stat().
 */
export interface RegistryCluster {
  leases: Leases;
  versions: RegistryVersions;
  /** `{tenantId}/{agent}`. */
  name: string;
  /** Longest wait for the lease (storage_unavailable, retryable, after it). */
  leaseTimeoutMs?: number;
}

/** One registry's side of cluster mode: its lease while held, and the version it is caught up with. */
export class RegistryLease {
  /** The version this instance is caught up with (recorded by it or read from Redis). */
  version: RegistryVersion | undefined;
  private lease: Lease | undefined;
  /** One holder of the lease per instance at a time. */
  private readonly serial = new KeyedLock();

  constructor(private readonly cluster: RegistryCluster) {}

  hold<T>(task: () => Promise<T>): Promise<T> {
    const { cluster } = this;
    return this.serial.run("lease", async () => {
      const lease = await cluster.leases.acquire(`registry:${cluster.name}`, cluster.leaseTimeoutMs === undefined ? {} : { timeoutMs: cluster.leaseTimeoutMs });
      this.lease = lease;
      try {
        return await task();
      } finally {
        this.lease = undefined;
        await lease.release();
      }
    });
  }

  /** True when Redis records the version this instance has (one round trip, no lease). */
  async current(): Promise<boolean> {
    return sameVersion(await this.cluster.versions.get(this.cluster.name), this.version);
  }

  /** Under the lease: the version in Redis, refusing when a newer holder recorded it (this one stalled past its lease). */
  async fetch(): Promise<RegistryVersion | undefined> {
    const version = await this.cluster.versions.get(this.cluster.name);
    this.refuseOlderThan(version?.fence);
    return version;
  }

  /** Under the lease, right before replacing a file: the grant confirmed by Redis, and no newer version recorded. */
  async confirm(): Promise<void> {
    if (!this.lease || !(await this.lease.confirm())) throw fencedOut(WHAT);
    await this.fetch();
  }

  /** Under the lease: refuses (writing nothing) when the lease is lost or `fence` (recorded somewhere) is newer than its token. */
  refuseOlderThan(fence: number | undefined): void {
    if (!this.lease) throw new Error("the registry lease is not held");
    assertFence(this.lease, fence, WHAT);
  }

  /** Under the lease: the token to stamp on a write, after checking the lease still holds. */
  token(): number {
    this.refuseOlderThan(undefined);
    return (this.lease as Lease).token;
  }

  /** Records `version` in Redis as this instance's; refuses when a newer holder recorded one meanwhile. */
  async record(version: RegistryVersion): Promise<void> {
    this.version = version;
    if (!(await this.cluster.versions.record(this.cluster.name, version))) throw fencedOut(WHAT);
  }
}
