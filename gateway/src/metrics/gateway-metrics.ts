import { answerScrape, createMetricsRegistry, isScrapeable, Gauge, httpMetrics, TenantLabels, type MetricsAccess, type Registry } from "@workforce/metrics";
import type { Handler, MiddlewareHandler } from "hono";
import type { Logger } from "../logger";
import type { RunObserver } from "../runs/run-observer";
import type { TenantLoad } from "../runs/scheduler";
import { createRunMetrics } from "./run-metrics";

/** What the gateway's metrics read at each scrape (gauges are current values, not events). */
export interface GatewayMetricsSources {
  /** Runs executing and waiting per tenant (the scheduler). */
  loads(): TenantLoad[];
  /** Agent session registries in memory (WORKFORCE_REGISTRY_CACHE bounds the idle ones). */
  registryCache(): { loaded: number; pinned: number };
}

export interface GatewayMetricsOptions {
  /** Who may scrape (METRICS_TOKEN, METRICS_PORT). */
  access: MetricsAccess;
  /** METRICS_TENANT_LABELS: per-tenant series for runs, tokens and queues (capped, see TenantLabels). */
  tenantLabels: boolean;
  /** Told (once) if recording a run's metrics fails. */
  logger: Logger;
}

/** The gateway's metrics, built once by createGateway and handed to the run manager and the HTTP app. */
export interface GatewayMetrics {
  registry: Registry;
  access: MetricsAccess;
  /** Hand to the run manager: counts runs and tokens, times first tokens and runs. */
  runs: RunObserver;
  /** Mount first on the app: requests by route template and status, latency, open SSE streams. */
  http: MiddlewareHandler;
  /** `GET /metrics` on the gateway's own port (token required; 404 without METRICS_TOKEN). */
  scrape: Handler;
  /** Connects the gauges read at scrape time (they need the run manager and session store, built after the observer). */
  watch(sources: GatewayMetricsSources): void;
}

function sumBy(loads: readonly TenantLoad[], labelOf: (tenantId: string) => string): Map<string, TenantLoad> {
  const totals = new Map<string, TenantLoad>();
  for (const load of loads) {
    const label = labelOf(load.tenantId);
    const total = totals.get(label) ?? { tenantId: label, active: 0, waiting: 0 };
    total.active += load.active;
    total.waiting += load.waiting;
    totals.set(label, total);
  }
  return totals;
}

export function createGatewayMetrics(options: GatewayMetricsOptions): GatewayMetrics {
  const registry = createMetricsRegistry("gateway", { processMetrics: isScrapeable(options.access) });
  const tenants = new TenantLabels(options.tenantLabels);
  let sources: GatewayMetricsSources | undefined;
  const perTenantLoad = (name: string, help: string, pick: (load: TenantLoad) => number) =>
    new Gauge({
      name,
      help,
      labelNames: tenants.labelNames(),
      registers: [registry],
      collect() {
        this.reset();
        const loads = sources?.loads() ?? [];
        if (!tenants.enabled) {
          this.set(loads.reduce((total, load) => total + pick(load), 0));
          return;
        }
        for (const [tenant, load] of sumBy(loads, (tenantId) => tenants.labels(tenantId).tenant ?? "other")) this.set({ tenant }, pick(load));
      },
    });
  perTenantLoad("workforce_runs_active", "Runs executing right now on this gateway", (load) => load.active);
  perTenantLoad("workforce_runs_waiting", "Runs waiting in their tenant's queue on this gateway (queue depth)", (load) => load.waiting);
  new Gauge({
    name: "workforce_session_registry_cache",
    help: "Agent session registries held in memory, by state (loaded, pinned by a run)",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      const stats = sources?.registryCache() ?? { loaded: 0, pinned: 0 };
      this.set({ state: "loaded" }, stats.loaded);
      this.set({ state: "pinned" }, stats.pinned);
    },
  });
  return {
    registry,
    access: options.access,
    runs: createRunMetrics(registry, tenants, options.logger),
    http: httpMetrics(registry),
    scrape: (c) => answerScrape(c, registry, options.access, false),
    watch(next) {
      sources = next;
    },
  };
}
