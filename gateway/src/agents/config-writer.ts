import type { TenantPaths } from "@workforce/protocol/tenant-path";
import { assertFence, fencedOut } from "../coordination/fencing";
import type { Leases } from "../coordination/leases";
import type { FileLocks } from "../fs/file-lock";
import { KeyedLock } from "../fs/keyed-lock";
import { readTenantConfig, writeTenantConfig, type TenantConfig } from "./tenant-config";

/** How a refusal names what was not written (no paths for the client). */
const WHAT = "this tenant's agents";

/** A writer of one tenant's config.json, exclusive across gateways while its task runs. */
export interface ConfigWriter {
  /** config.json as it is now; refuses when it records a newer writer's fence than this one's. */
  read(): Promise<TenantConfig>;
  /** Before any other write of the task (bootstrap files, directories): refuses once the lease is lost or a newer writer wrote. */
  check(): Promise<void>;
  /** Replaces config.json (stamped with this writer's fence in cluster mode); returns the bytes it grew. */
  write(config: TenantConfig): Promise<number>;
}

export interface ConfigWritersOptions {
  /** One host: the `{tenant}/config.json.lock` lock file serialises writers. */
  locks: FileLocks;
  /** Cluster mode (REDIS_URL): the lease `config:{tenantId}` with fencing instead (docs/decisions/026). */
  leases?: Leases;
}

/**
 * Runs config.json read-modify-writes one at a time per tenant, across every gateway. In cluster
 * mode the writer holds `config:{tenantId}`, stamps its fencing token into config.json (`fence`),
 * refuses when the file already records a newer one, and confirms its grant with Redis right before
 * the new file replaces the old, so a writer that stalled past its lease writes nothing.
 */
export function createConfigWriters(options: ConfigWritersOptions) {
  const { leases } = options;
  /** One writer per tenant in this process at a time (the lock files do this themselves). */
  const serial = new KeyedLock();

  return function withConfigWriter<T>(paths: TenantPaths, task: (writer: ConfigWriter) => Promise<T>): Promise<T> {
    if (!leases) {
      const writer: ConfigWriter = { read: () => readTenantConfig(paths), check: async () => undefined, write: (config) => writeTenantConfig(paths, config) };
      return options.locks.run(`${paths.config}.lock`, () => task(writer));
    }
    return serial.run(paths.tenantId, async () => {
      const lease = await leases.acquire(`config:${paths.tenantId}`);
      const confirm = async () => {
        if (!(await lease.confirm())) throw fencedOut(WHAT);
        assertFence(lease, (await readTenantConfig(paths)).fence, WHAT);
      };
      try {
        return await task({
          async read() {
            const config = await readTenantConfig(paths);
            assertFence(lease, config.fence, WHAT);
            return config;
          },
          check: confirm,
          write: (config) => writeTenantConfig(paths, { ...config, fence: lease.token }, confirm),
        });
      } finally {
        await lease.release();
      }
    });
  };
}
