import type { Leases } from "./leases";

/**
 * Leases whose implementation is imported on first use (the Redis client is a large module tree a
 * single gateway never loads). A load that fails makes every call fail the way it did.
 */
export function lazyLeases(load: () => Promise<Leases>): Leases {
  let loading: Promise<Leases> | undefined;
  const loaded = () => (loading ??= load());
  return {
    acquire: async (key, options) => (await loaded()).acquire(key, options),
    tryAcquire: async (key) => (await loaded()).tryAcquire(key),
    holder: async (key) => (await loaded()).holder(key),
    close: async () => {
      if (loading) await (await loading).close();
    },
  };
}
