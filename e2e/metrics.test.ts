/**
 * Prometheus metrics of the real services, started as production starts them (the bundles, env
 * configuration): the gateway scraped with METRICS_TOKEN and per-tenant labels, the platform on a
 * METRICS_PORT of its own. A chat through the platform must move the counters, and every metric the
 * shipped Grafana dashboard and alert rules name must exist in a real scrape.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { parseScrape, type Scrape } from "@workforce/metrics/testing";
import { ApiErrorBody } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FAKE_API_KEY, freePort, repoRoot, startGateway, startPlatform, type GatewayService, type PlatformService } from "../bench/lib/services";
import { createPlatformUser, type PlatformUser } from "../bench/lib/targets";

const hookToken = `metrics-${randomUUID()}`;
const metricsToken = `metrics-token-${randomUUID()}`;
let fake: FakeUpstream;
let dataDir: string;
let pgliteDir: string;
let gateway: GatewayService;
let platform: PlatformService;
let platformMetricsUrl: string;
let gatewayMetricsPortUrl: string;
let user: PlatformUser;

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: FAKE_API_KEY });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-metrics-"));
  pgliteDir = await mkdtemp(path.join(os.tmpdir(), "wf-metrics-db-"));
  const gatewayMetricsPort = await freePort();
  gateway = await startGateway({ dataDir, fakeUrl: fake.url, hookToken, env: { METRICS_TOKEN: metricsToken, METRICS_PORT: String(gatewayMetricsPort), METRICS_TENANT_LABELS: "1" } });
  gatewayMetricsPortUrl = `http://127.0.0.1:${gatewayMetricsPort}/metrics`;
  const metricsPort = await freePort();
  platform = await startPlatform({ gatewayUrl: gateway.url, hookToken, dataDir, pgliteDir, env: { METRICS_PORT: String(metricsPort), METRICS_BIND: "127.0.0.1" } });
  platformMetricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  user = await createPlatformUser(platform.url);
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await gateway?.stop();
  await fake?.close();
  for (const dir of [dataDir, pgliteDir]) if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

async function scrapeAt(url: string, token?: string): Promise<Scrape> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  expect(response.status).toBe(200);
  return parseScrape(await response.text());
}
const scrapeGateway = () => scrapeAt(`${gateway.url}/metrics`, metricsToken);
const scrapePlatform = () => scrapeAt(platformMetricsUrl);

/** Metric names in PromQL text: ours and Node's, histogram series mapped to their family. */
function metricNames(promql: string): string[] {
  const names = [...promql.matchAll(/\b((?:workforce|nodejs|process)_[a-z0-9_]+)\b/g)].map((match) => match[1]!.replace(/_(bucket|sum|count)$/, ""));
  return [...new Set(names)];
}

describe("metrics of the running services", () => {
  it("move with a chat through the platform: runs, tokens, first token, the platform's route, with the tenant's label", async () => {
    const [gatewayBefore, platformBefore] = [await scrapeGateway(), await scrapePlatform()];
    const anthropic = { provider: "anthropic", tenant: user.tenantId };
    fake.enqueue({ kind: "text", text: "I am the bench agent." });
    const response = await fetch(`${platform.url}/api/agents/${user.slug}/messages`, {
      method: "POST",
      headers: { ...user.headers, "content-type": "application/json" },
      body: JSON.stringify({ message: "Who are you?" }),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("event: run-end");
    const [gatewayAfter, platformAfter] = [await scrapeGateway(), await scrapePlatform()];

    const moved = (name: string, where: Record<string, string>) => gatewayAfter.sum(name, where) - gatewayBefore.sum(name, where);
    expect(moved("workforce_runs_started_total", anthropic)).toBe(1);
    expect(moved("workforce_runs_completed_total", anthropic)).toBe(1);
    expect(moved("workforce_tokens_total", { ...anthropic, kind: "output" })).toBeGreaterThan(0);
    expect(moved("workforce_tokens_total", { ...anthropic, kind: "input" })).toBeGreaterThan(0);
    expect(gatewayAfter.histogramCount("workforce_run_ttft_seconds", { provider: "anthropic" }) - gatewayBefore.histogramCount("workforce_run_ttft_seconds", { provider: "anthropic" })).toBe(1);

    const route = { method: "POST", route: "/api/agents/:slug/messages", status: "200" };
    expect(platformAfter.sum("workforce_http_requests_total", route) - platformBefore.sum("workforce_http_requests_total", route)).toBe(1);
    expect(platformAfter.sum("workforce_platform_gateway_up")).toBe(1);
    expect(platformAfter.samples("workforce_platform_gateway_up")[0]?.labels.service).toBe("platform");
  });

  it("are refused without the token (on the gateway's metrics port too), and not served on the platform's public port without one", async () => {
    const refused = await fetch(`${gateway.url}/metrics`);
    expect(refused.status).toBe(401);
    expect(ApiErrorBody.parse(await refused.json()).error.code).toBe("unauthorized");
    // The gateway's own metrics port asks for the token too, since one is set.
    expect((await fetch(gatewayMetricsPortUrl)).status).toBe(401);
    expect((await scrapeAt(gatewayMetricsPortUrl, metricsToken)).names()).toContain("workforce_runs_started_total");
    const hidden = await fetch(`${platform.url}/metrics`);
    expect(hidden.status).toBe(404);
    expect(ApiErrorBody.parse(await hidden.json()).error.code).toBe("not_found");
  });

  it("name every metric the Grafana dashboard and the alert rules use", async () => {
    const scraped = new Set([...(await scrapeGateway()).names(), ...(await scrapePlatform()).names()]);
    const dashboard = JSON.parse(await readFile(path.join(repoRoot, "deploy/grafana/workforce-dashboard.json"), "utf8")) as { panels: { targets?: { expr: string }[] }[] };
    const dashboardExprs = dashboard.panels.flatMap((panel) => panel.targets ?? []).map((target) => target.expr);
    const alerts = parse(await readFile(path.join(repoRoot, "deploy/prometheus/alerts.yaml"), "utf8")) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const alertExprs = alerts.groups.flatMap((group) => group.rules).map((rule) => rule.expr);
    const named = metricNames([...dashboardExprs, ...alertExprs].join("\n"));
    expect(named.length).toBeGreaterThan(10);
    expect(named.filter((name) => !scraped.has(name))).toEqual([]);
    // `up` is Prometheus's own; the jobs it names must be those of the example scrape configuration.
    const config = parse(await readFile(path.join(repoRoot, "deploy/prometheus/prometheus.yml"), "utf8")) as { scrape_configs: { job_name: string }[] };
    const jobs = config.scrape_configs.map((job) => job.job_name);
    const jobsUsed = [...new Set([...[...dashboardExprs, ...alertExprs].join("\n").matchAll(/job="([^"]+)"/g)].map((match) => match[1]!))];
    expect(jobsUsed.filter((job) => !jobs.includes(job))).toEqual([]);
    expect(alerts.groups.flatMap((group) => group.rules).map((rule) => rule.alert)).toEqual(
      expect.arrayContaining(["WorkforceGatewayDown", "WorkforcePlatformGatewayDisconnected", "WorkforceHighHttpErrorRate", "WorkforceSlowFirstToken", "WorkforceRunQueueSaturated", "WorkforceEventLoopLag"]),
    );
  });
});
