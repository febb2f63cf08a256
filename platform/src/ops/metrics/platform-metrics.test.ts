import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseScrape } from "@workforce/metrics/testing";
import { ApiErrorBody } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayClient } from "../../gateway-client";
import { startFakeGateway, type FakeGateway } from "../../test-support/fake-gateway";
import { sendMessage } from "../../test-support/send-message";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../../test-support/test-platform";
import { createPlatformMetrics } from "./platform-metrics";

const METRICS_TOKEN = "platform-metrics-token-0123456789";

let gateway: FakeGateway;
let webDist: string;
/** The platform main.ts would build with METRICS_TOKEN set; others share its database (migrating one is slow). */
let platform: TestPlatform;
const extra: TestPlatform[] = [];

/** A platform whose metrics are built as main.ts builds them, with a built web app to fall back to. */
async function platformWithMetrics(token: string | undefined, database?: TestPlatform["database"]): Promise<TestPlatform> {
  const client = createGatewayClient({ baseUrl: gateway.url, hookToken: undefined });
  const metrics = createPlatformMetrics({ access: { token, port: undefined, bind: "127.0.0.1" }, gateway: client });
  const built = await createTestPlatform({ gatewayUrl: gateway.url, ...(database ? { database } : {}), parts: { gateway: client, metrics, webDistDir: webDist } });
  // The web app's fallback page answers unknown paths; it must never answer /metrics.
  expect((await caller(built)("GET", "/some/page")).headers.get("content-type")).toContain("text/html");
  return built;
}

beforeAll(async () => {
  gateway = await startFakeGateway();
  webDist = await mkdtemp(path.join(os.tmpdir(), "workforce-web-metrics-"));
  await writeFile(path.join(webDist, "index.html"), "<!doctype html><title>Workforce</title>");
  platform = await platformWithMetrics(METRICS_TOKEN);
}, 120_000);
afterAll(async () => {
  for (const other of extra) await other.close();
  await platform.close();
  await gateway.close();
  await rm(webDist, { recursive: true, force: true });
});

const scrape = (p: TestPlatform, token: string | null = METRICS_TOKEN) => caller(p)("GET", "/metrics", token === null ? {} : { token });

describe("platform /metrics", () => {
  it("counts requests by route template and status, and the open chat streams, while the gateway is up", async () => {
    const p = platform;
    const user = await signUp(p, "metrics@example.com");
    const call = caller(p);
    const created = await call("POST", "/api/agents", { token: user.token, headers: { "x-tenant-id": user.tenantId }, body: { name: "Ada", role: "Analyst", persona: "Precise." } });
    expect(created.status).toBe(201);
    const sent = await sendMessage(call, { token: user.token, headers: { "x-tenant-id": user.tenantId }, agent: "ada" });
    expect(sent.status).toBe(200);
    const response = await scrape(p);
    expect(response.status).toBe(200);
    const metrics = parseScrape(await response.text());
    expect(metrics.sum("workforce_http_requests_total", { method: "POST", route: "/api/agents/:slug/messages", status: "200" })).toBe(1);
    expect(metrics.histogramCount("workforce_http_request_duration_seconds", { route: "/api/agents/:slug/messages" })).toBe(1);
    expect(metrics.sum("workforce_http_requests_total", { method: "POST", route: "/auth/v1/signup" })).toBe(1);
    expect(metrics.samples("workforce_http_requests_total").some((sample) => sample.labels.route?.includes("ada"))).toBe(false);
    expect(metrics.sum("workforce_sse_streams_open")).toBe(0);
    expect(metrics.sum("workforce_platform_gateway_up")).toBe(1);
    expect(metrics.samples("workforce_platform_gateway_up")[0]?.labels.service).toBe("platform");
    expect(metrics.names()).toEqual(expect.arrayContaining(["workforce_platform_gateway_connections", "workforce_platform_gateway_run_streams", "nodejs_eventloop_lag_seconds"]));
  });

  it("reports the gateway down when it does not answer", async () => {
    const unreachable = createGatewayClient({ baseUrl: "http://127.0.0.1:9", hookToken: undefined });
    const metrics = createPlatformMetrics({ access: { token: METRICS_TOKEN, port: undefined, bind: "127.0.0.1" }, gateway: unreachable });
    expect(parseScrape(await metrics.registry.metrics()).sum("workforce_platform_gateway_up")).toBe(0);
  });

  it("is answered by its own route, never by /api's auth or the web app's fallback page", async () => {
    const p = platform;
    const refused = await scrape(p, null);
    expect(refused.status).toBe(401);
    expect(ApiErrorBody.parse(await refused.json()).error.code).toBe("unauthorized");
    const wrong = await scrape(p, "a-jwt-or-anything-else-that-is-wrong");
    expect(wrong.status).toBe(401);
    expect(ApiErrorBody.parse(await wrong.json()).error.code).toBe("invalid_token");
    // A user's access token is not the metrics token.
    const user = await signUp(p, "not-an-operator@example.com");
    expect((await scrape(p, user.token)).status).toBe(401);
  });

  it("answers 404 in the error shape without METRICS_TOKEN (never public by default)", async () => {
    const p = await platformWithMetrics(undefined, platform.database);
    extra.push(p);
    const response = await scrape(p, null);
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toContain("application/json");
    expect(ApiErrorBody.parse(await response.json()).error.code).toBe("not_found");
  });
});
