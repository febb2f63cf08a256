import type { RunEventRelay } from "./run-relay";

/**
 * A relay whose implementation is imported only when one is configured (the Redis client is a
 * large module tree that a single gateway never needs). Calls made while it loads are kept and
 * replayed in order; a relay that cannot load behaves like an unreachable one.
 */
export function lazyRunRelay(load: () => Promise<RunEventRelay>): RunEventRelay {
  let relay: RunEventRelay | undefined;
  let queued: ((loaded: RunEventRelay) => void)[] = [];
  const loading = load().then((loaded) => {
    relay = loaded;
    for (const call of queued) call(loaded);
    queued = [];
    return loaded;
  });
  loading.catch(() => undefined); // reported by the calls that need it (find, requestAbort, close)
  const later = (call: (loaded: RunEventRelay) => void) => {
    if (relay) call(relay);
    else queued.push(call);
  };
  return {
    publishInfo: (tenantId, info) => later((loaded) => loaded.publishInfo(tenantId, info)),
    publishEvent: (tenantId, event) => later((loaded) => loaded.publishEvent(tenantId, event)),
    find: async (tenantId, runId) => (await loading).find(tenantId, runId),
    requestAbort: async (tenantId, runId) => (await loading).requestAbort(tenantId, runId),
    onAbortRequest: (listener) => later((loaded) => loaded.onAbortRequest(listener)),
    close: async () => (await loading).close(),
  };
}
