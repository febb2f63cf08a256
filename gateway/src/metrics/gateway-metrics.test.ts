import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { startMetricsServer, type MetricsServer } from "@workforce/metrics";
import { parseScrape, type Scrape } from "@workforce/metrics/testing";
import { ApiErrorBody } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { GatewayConfig } from "../config";
import { createProviders } from "../llm/create-providers";
import { startServer, type RunningServer } from "../server/start-server";
import { createHeldProvider } from "../test-support/held-provider";
import { readRunEvents, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

const METRICS_TOKEN = "metrics-token-for-tests-0123456789";
const HOOK_TOKEN = "hook-token-for-tests-0123456789";

let upstream: FakeUpstream;
const cleanups: (() => Promise<void>)[] = [];
beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  upstream.reset();
});

interface Served {
  harness: TestGateway;
  server: RunningServer;
  /** GET /metrics over the socket, with the metrics token unless `token` says otherwise. */
  scrapeResponse(token?: string | null): Promise<Response>;
  scrape(): Promise<Scrape>;
  /** Sends a message to agent "ada" over the socket and reads the SSE stream to its end. */
  chat(tenant?: string): Promise<void>;
}

/** A gateway on a real socket, thinking with Claude through the real SDK against the fake upstream. */
async function serveGateway(metrics: Partial<GatewayConfig["metrics"]> & { token?: string | undefined } = { token: METRICS_TOKEN }, providers = createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: undefined })): Promise<Served> {
  const harness = await startTestGateway({
    hookToken: HOOK_TOKEN,
    providers,
    config: {
      defaultModel: "claude-fake-1",
      metrics: { access: { token: metrics.token, port: undefined, bind: "127.0.0.1" }, tenantLabels: metrics.tenantLabels ?? false },
    },
  });
  const server = await startServer(harness.gateway.app, 0, "127.0.0.1");
  cleanups.push(async () => {
    await server.close();
    await harness.cleanup();
  });
  for (const tenant of [TENANT_A, TENANT_B]) expect((await harness.createAgent(tenant)).status).toBe(201);
  const scrapeResponse = (token: string | null = METRICS_TOKEN) =>
    fetch(`${server.url}/metrics`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return {
    harness,
    server,
    scrapeResponse,
    async scrape() {
      const response = await scrapeResponse();
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/plain");
      return parseScrape(await response.text());
    },
    async chat(tenant = TENANT_A) {
      const response = await fetch(`${server.url}/v1/agents/ada/runs`, {
        method: "POST",
        headers: { authorization: `Bearer ${HOOK_TOKEN}`, "x-tenant-id": tenant, "content-type": "application/json", accept: "text/event-stream" },
        body: JSON.stringify({ message: "Who are you?", sessionKey: "main" }),
      });
      expect(response.status).toBe(200);
      const events = await readRunEvents(response);
      expect(events.at(-1)).toMatchObject({ type: "run-end" });
    },
  };
}

async function errorOf(response: Response) {
  return { status: response.status, ...ApiErrorBody.parse(await response.json()).error };
}

describe("gateway /metrics", () => {
  it("counts a chat: run started and completed, tokens, first-token and duration histograms, the request by its route template", async () => {
    const served = await serveGateway();
    const before = await served.scrape();
    const anthropic = { provider: "anthropic" };
    expect(before.type("workforce_runs_started_total")).toBe("COUNTER");
    upstream.enqueue({ kind: "text", text: "I am Ada, a research analyst." });
    await served.chat();
    const after = await served.scrape();

    expect(after.sum("workforce_runs_started_total", anthropic) - before.sum("workforce_runs_started_total", anthropic)).toBe(1);
    expect(after.sum("workforce_runs_completed_total", anthropic) - before.sum("workforce_runs_completed_total", anthropic)).toBe(1);
    expect(after.sum("workforce_runs_failed_total")).toBe(0);
    expect(after.sum("workforce_tokens_total", { ...anthropic, kind: "input" })).toBeGreaterThan(0);
    expect(after.sum("workforce_tokens_total", { ...anthropic, kind: "output" })).toBeGreaterThan(0);
    expect(after.histogramCount("workforce_run_ttft_seconds", anthropic) - before.histogramCount("workforce_run_ttft_seconds", anthropic)).toBe(1);
    expect(after.histogramCount("workforce_run_duration_seconds", { ...anthropic, status: "ok" })).toBe(1);
    // The route template, never the agent's slug: label values come only from the route table.
    const runRoute = { method: "POST", route: "/v1/agents/:slug/runs", status: "200" };
    expect(after.sum("workforce_http_requests_total", runRoute)).toBe(1);
    expect(after.histogramCount("workforce_http_request_duration_seconds", runRoute)).toBe(1);
    expect(after.samples("workforce_http_requests_total").some((sample) => sample.labels.route?.includes("ada"))).toBe(false);
    // Every series says which service it is from; the process metrics are there too.
    expect(after.samples("workforce_runs_completed_total", anthropic)[0]?.labels.service).toBe("gateway");
    expect(after.names()).toEqual(expect.arrayContaining(["process_cpu_seconds_total", "nodejs_eventloop_lag_seconds", "workforce_session_registry_cache"]));
    expect(after.sum("workforce_session_registry_cache", { state: "loaded" })).toBeGreaterThanOrEqual(1);
    // No tenant label unless the operator opts in.
    expect(after.samples("workforce_runs_completed_total").every((sample) => !("tenant" in sample.labels))).toBe(true);
  });

  it("counts a failed run under its error code", async () => {
    const served = await serveGateway({ token: METRICS_TOKEN }, createProviders({ anthropic: { apiKey: "wrong-key", baseURL: upstream.url }, openai: undefined }));
    await served.chat();
    const scrape = await served.scrape();
    expect(scrape.sum("workforce_runs_failed_total", { provider: "anthropic", code: "provider_auth_failed" })).toBe(1);
    expect(scrape.sum("workforce_runs_completed_total")).toBe(0);
  });

  it("shows the runs executing and waiting and the open SSE streams while a run streams", async () => {
    const held = createHeldProvider();
    const served = await serveGateway({ token: METRICS_TOKEN }, { anthropic: held, openaiCompatible: undefined });
    const streaming = served.chat();
    await held.waitForCalls(1);
    const during = await served.scrape();
    expect(during.sum("workforce_runs_active")).toBe(1);
    expect(during.sum("workforce_runs_waiting")).toBe(0);
    expect(during.sum("workforce_sse_streams_open", { route: "/v1/agents/:slug/runs" })).toBe(1);
    expect(during.sum("workforce_session_registry_cache", { state: "pinned" })).toBe(1);
    held.calls[0]?.release();
    await streaming;
    // The stream's end reaches the gauge once the response body is done.
    await expect.poll(async () => (await served.scrape()).sum("workforce_sse_streams_open")).toBe(0);
    expect((await served.scrape()).sum("workforce_runs_active")).toBe(0);
  });

  it("closes the SSE stream's count when the client goes away mid-stream", async () => {
    const held = createHeldProvider();
    const served = await serveGateway({ token: METRICS_TOKEN }, { anthropic: held, openaiCompatible: undefined });
    const client = new AbortController();
    const response = await fetch(`${served.server.url}/v1/agents/ada/runs`, {
      method: "POST",
      signal: client.signal,
      headers: { authorization: `Bearer ${HOOK_TOKEN}`, "x-tenant-id": TENANT_A, "content-type": "application/json", accept: "text/event-stream" },
      body: JSON.stringify({ message: "Take your time", sessionKey: "main" }),
    });
    expect(response.status).toBe(200);
    await held.waitForCalls(1);
    expect((await served.scrape()).sum("workforce_sse_streams_open")).toBe(1);
    client.abort();
    await expect.poll(async () => (await served.scrape()).sum("workforce_sse_streams_open")).toBe(0);
    held.calls[0]?.release();
    await expect.poll(async () => (await served.scrape()).sum("workforce_runs_completed_total")).toBe(1);
  });

  it("refuses a scrape without the token or with a wrong one, in the API's error shape", async () => {
    const served = await serveGateway();
    expect(await errorOf(await served.scrapeResponse(null))).toMatchObject({ status: 401, code: "unauthorized" });
    expect(await errorOf(await served.scrapeResponse("not-the-metrics-token-at-all"))).toMatchObject({ status: 401, code: "invalid_token" });
    // The hook token is not the metrics token.
    expect(await errorOf(await served.scrapeResponse(HOOK_TOKEN))).toMatchObject({ status: 401, code: "invalid_token" });
  });

  it("is not served at all without METRICS_TOKEN, except on the METRICS_PORT listener", async () => {
    const served = await serveGateway({ token: undefined });
    expect(await errorOf(await served.scrapeResponse(null))).toMatchObject({ status: 404, code: "not_found" });
    expect(await errorOf(await served.scrapeResponse(METRICS_TOKEN))).toMatchObject({ status: 404, code: "not_found" });
    const listener: MetricsServer = await startMetricsServer(served.harness.gateway.metrics.registry, { token: undefined, port: 0, bind: "127.0.0.1" });
    cleanups.push(() => listener.close());
    upstream.enqueue({ kind: "text", text: "Hello." });
    await served.chat();
    const response = await fetch(`${listener.url}/metrics`);
    expect(response.status).toBe(200);
    expect(parseScrape(await response.text()).sum("workforce_runs_completed_total")).toBe(1);
    expect(await errorOf(await fetch(`${listener.url}/v1/agents`))).toMatchObject({ status: 404, code: "not_found" });
  });

  it("labels runs and tokens by tenant only when opted in", async () => {
    const served = await serveGateway({ token: METRICS_TOKEN, tenantLabels: true });
    await served.chat(TENANT_A);
    await served.chat(TENANT_B);
    const scrape = await served.scrape();
    expect(scrape.sum("workforce_runs_completed_total", { tenant: TENANT_A })).toBe(1);
    expect(scrape.sum("workforce_runs_completed_total", { tenant: TENANT_B })).toBe(1);
    expect(scrape.sum("workforce_tokens_total", { tenant: TENANT_A, kind: "output" })).toBeGreaterThan(0);
  });

  it("keeps two gateways in one process apart (a registry each, no global one)", async () => {
    const [first, second] = [await serveGateway(), await serveGateway()];
    await first.chat();
    expect((await first.scrape()).sum("workforce_runs_completed_total")).toBe(1);
    expect((await second.scrape()).sum("workforce_runs_completed_total")).toBe(0);
  });
});
