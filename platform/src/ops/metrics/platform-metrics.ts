import { answerScrape, createMetricsRegistry, Gauge, httpMetrics, isScrapeable, type MetricsAccess, type Registry } from "@workforce/metrics";
import type { Handler, MiddlewareHandler } from "hono";
import type { GatewayClient } from "../../gateway-client";

/** How long a scrape waits for the gateway's health before counting it as down. */
const GATEWAY_PROBE_TIMEOUT_MS = 1_500;

/** The platform's metrics, built once at start-up (main.ts) and handed to the app. */
export interface PlatformMetrics {
  registry: Registry;
  access: MetricsAccess;
  /** Mount first on the app: requests by route template and status, latency, open SSE streams. */
  http: MiddlewareHandler;
  /** `GET /metrics` outside `/api` (no JWT: its own token; 404 without METRICS_TOKEN). */
  scrape: Handler;
}

/**
 * The platform's view of its gateway, read at each scrape: whether the gateway answers its health
 * check with this platform's token (`workforce_platform_gateway_up`), and the WebSockets the
 * platform holds to it with the run streams they carry.
 */
function gatewayGauges(registry: Registry, gateway: Pick<GatewayClient, "health" | "streams">): void {
  new Gauge({
    name: "workforce_platform_gateway_up",
    help: "1 when the gateway answered this platform's health check at the last scrape, else 0",
    registers: [registry],
    async collect() {
      const up = await gateway.health(GATEWAY_PROBE_TIMEOUT_MS).then(
        () => 1,
        () => 0,
      );
      this.set(up);
    },
  });
  new Gauge({
    name: "workforce_platform_gateway_connections",
    help: "WebSocket connections open from this platform to the gateway (one or more per tenant with streams)",
    registers: [registry],
    collect() {
      this.set(gateway.streams.stats().connections);
    },
  });
  new Gauge({
    name: "workforce_platform_gateway_run_streams",
    help: "Run streams the platform is following over its gateway connections",
    registers: [registry],
    collect() {
      this.set(gateway.streams.stats().runs);
    },
  });
}

export function createPlatformMetrics(options: { access: MetricsAccess; gateway: Pick<GatewayClient, "health" | "streams"> }): PlatformMetrics {
  const registry = createMetricsRegistry("platform", { processMetrics: isScrapeable(options.access) });
  gatewayGauges(registry, options.gateway);
  return {
    registry,
    access: options.access,
    http: httpMetrics(registry),
    scrape: (c) => answerScrape(c, registry, options.access, false),
  };
}
