import { collectDefaultMetrics, Registry } from "prom-client";

/** Which service a registry belongs to: every series it exposes carries `service="<name>"`. */
export type ServiceName = "gateway" | "platform";

/**
 * A fresh registry for one service instance. Built at start-up and handed down: prom-client's
 * global registry is never used, so two gateways in one process (tests) keep apart.
 *
 * `processMetrics` adds Node's process metrics (CPU, memory, handles, GC, event-loop lag and its
 * percentiles). They start monitors that live as long as the process (prom-client cannot stop
 * them), so a service turns them on only when someone may scrape it (METRICS_TOKEN or METRICS_PORT).
 */
export function createMetricsRegistry(service: ServiceName, options: { processMetrics: boolean }): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  // 10 ms resolution: event-loop stalls worth alerting on are far longer than that.
  if (options.processMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10 });
  return registry;
}
