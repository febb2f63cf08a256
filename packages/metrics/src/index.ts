export { createMetricsRegistry, type ServiceName } from "./metrics-registry";
export { httpMetrics } from "./http-metrics";
export {
  answerScrape,
  DEFAULT_METRICS_BIND,
  isScrapeable,
  metricsAccessFrom,
  MIN_METRICS_TOKEN_LENGTH,
  PROMETHEUS_CONTENT_TYPE,
  type MetricsAccess,
} from "./metrics-access";
export { startMetricsServer, type MetricsServer } from "./metrics-server";
export { DEFAULT_TENANT_LABEL_CAP, OTHER_TENANTS, TenantLabels } from "./tenant-labels";
export { Counter, Gauge, Histogram, type Registry } from "prom-client";
