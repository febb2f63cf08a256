import { describe, expect, it } from "vitest";
import { createMetricsRegistry } from "./metrics-registry";
import { Counter } from "prom-client";
import { parseScrape } from "./testing/parse-scrape";
import { OTHER_TENANTS, TenantLabels } from "./tenant-labels";

describe("tenant labels", () => {
  it("name the first tenants up to the cap and count every later one as other, so series stay bounded", async () => {
    const registry = createMetricsRegistry("gateway", { processMetrics: false });
    const tenants = new TenantLabels(true, 2);
    const runs = new Counter({ name: "runs_total", help: "runs", labelNames: tenants.labelNames(), registers: [registry] });
    for (const tenant of ["a", "b", "c", "d", "a", "c"]) runs.inc(tenants.labels(tenant));
    const scrape = parseScrape(await registry.metrics());
    expect(scrape.samples("runs_total").map((sample) => [sample.labels.tenant, sample.value])).toEqual([
      ["a", 2],
      ["b", 1],
      [OTHER_TENANTS, 3],
    ]);
  });

  it("add no tenant label at all unless opted in", async () => {
    const registry = createMetricsRegistry("platform", { processMetrics: false });
    const tenants = new TenantLabels(false);
    const runs = new Counter({ name: "runs_total", help: "runs", labelNames: tenants.labelNames(), registers: [registry] });
    runs.inc(tenants.labels("a"));
    runs.inc(tenants.labels("b"));
    const [sample, ...rest] = parseScrape(await registry.metrics()).samples("runs_total");
    expect(rest).toEqual([]);
    expect(sample).toEqual({ labels: { service: "platform" }, value: 2 });
  });
});
