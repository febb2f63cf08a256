import { collectDefaultMetrics, Registry } from "prom-client";

/** Which service a registry belongs to: every series it exposes carries `service="<name>"`. */
export type ServiceName = "gateway" | "platform";

/**
 * A fresh registry for one service instance, with Node's process metrics (CPU, memory, handles,
 * GC, event-loop lag and its percentiles). Built at start-up and handed down: prom-client's global
 * registry is never used, so two gateways in one process (tests) keep apart.
 */
export function createMetricsRegistry(service: ServiceName): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // 10 ms resolution: event-loop stalls worth alerting on are far longer than that.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return registry;
}
