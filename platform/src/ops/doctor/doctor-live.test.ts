import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { serve, type ServerType } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test-support/free-port";
import { startGatewayProcess, type GatewayProcess } from "../../test-support/gateway-process";
import { createTestPlatform, type TestPlatform } from "../../test-support/test-platform";
import { doctorIn } from "./doctor-test-support";

const TOKEN = "the-gateway-token";
let tmp: string;
let gateway: GatewayProcess;
let platform: TestPlatform;
let server: ServerType;
let proxy: http.Server;
let env: Record<string, string>;
let proxyUrl: string;

/** A reverse proxy that buffers every response whole before passing it on: nginx with proxy_buffering on, at its worst. */
async function startBufferingProxy(target: string): Promise<{ server: http.Server; url: string }> {
  const buffering = http.createServer((request, response) => {
    void fetch(`${target}${request.url ?? "/"}`, { headers: { accept: request.headers.accept ?? "*/*" } }).then(async (upstream) => {
      const body = Buffer.from(await upstream.arrayBuffer());
      response.writeHead(upstream.status, { "content-type": upstream.headers.get("content-type") ?? "application/octet-stream", "content-length": body.length, connection: "close" });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => buffering.listen(0, "127.0.0.1", resolve));
  return { server: buffering, url: `http://127.0.0.1:${(buffering.address() as { port: number }).port}` };
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "wf-doctor-live-"));
  gateway = await startGatewayProcess({ hookToken: TOKEN });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: TOKEN, parts: { tenantDataDir: gateway.dataDir, isLoopback: () => true } });
  const port = await freePort();
  server = serve({ fetch: platform.app.fetch, port, hostname: "127.0.0.1" });
  const buffering = await startBufferingProxy(`http://127.0.0.1:${port}`);
  proxy = buffering.server;
  proxyUrl = buffering.url;
  env = {
    PATH: process.env.PATH ?? "",
    HOME: tmp,
    PORT: String(port),
    CLAWDBOT_GATEWAY_URL: gateway.url,
    CLAWDBOT_HOOK_TOKEN: TOKEN,
    TENANT_DATA_DIR: gateway.dataDir,
    PGLITE_DATA_DIR: path.join(tmp, "db"),
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
}, 120_000);
afterAll(async () => {
  proxy?.closeAllConnections();
  await new Promise((resolve) => proxy?.close(resolve));
  await new Promise((resolve) => server?.close(resolve));
  await platform?.close();
  await gateway?.stop();
  await rm(tmp, { recursive: true, force: true });
});

describe("workforce doctor against a running gateway (its own process) and platform (over HTTP)", { timeout: 60_000 }, () => {
  it("checks the running system: ports held by it, token accepted, one data dir, health ok, streams unbuffered", async () => {
    const report = await doctorIn(env);
    expect(report.live).toBe(true);
    expect(report.check("platform port")).toMatchObject({ status: "pass", detail: `${env.PORT} is held by the running Workforce platform` });
    expect(report.check("gateway port")).toMatchObject({ status: "pass", detail: expect.stringContaining("held by the running Workforce gateway") });
    expect(report.check("hook token")).toMatchObject({ status: "pass", detail: "the gateway accepts CLAWDBOT_HOOK_TOKEN" });
    expect(report.check("same data dir")).toMatchObject({ status: "pass", detail: expect.stringContaining(`both use ${gateway.dataDir}`) });
    expect(report.check("gateway cluster")).toMatchObject({ status: "skip", detail: "one gateway (no REDIS_URL on it)" });
    expect(report.check("platform health")).toMatchObject({ status: "pass" });
    expect(report.check("event streams")).toMatchObject({ status: "pass", detail: expect.stringContaining("not buffered") });
  });

  it("fails a CLAWDBOT_HOOK_TOKEN the gateway rejects, never printing either token", async () => {
    const report = await doctorIn({ ...env, CLAWDBOT_HOOK_TOKEN: "a-wrong-token" });
    expect(report.check("hook token")).toMatchObject({ status: "fail", detail: expect.stringContaining("rejects this CLAWDBOT_HOOK_TOKEN"), fix: expect.stringContaining("same CLAWDBOT_HOOK_TOKEN") });
    expect(JSON.stringify(report)).not.toMatch(/a-wrong-token|the-gateway-token/);
  });

  it("fails a missing CLAWDBOT_HOOK_TOKEN although the gateway answers GET / without one", async () => {
    const { CLAWDBOT_HOOK_TOKEN: _token, ...without } = env;
    const report = await doctorIn(without);
    expect(report.check("hook token")).toMatchObject({ status: "fail", detail: expect.stringContaining("requires a token and CLAWDBOT_HOOK_TOKEN is not set here") });
  });

  it("fails a TENANT_DATA_DIR that differs from the gateway's (the guide's 'Unknown error')", async () => {
    const elsewhere = path.join(tmp, "elsewhere");
    const report = await doctorIn({ ...env, TENANT_DATA_DIR: elsewhere });
    expect(report.check("same data dir")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining(`TENANT_DATA_DIR differs: the gateway serves ${gateway.dataDir}`),
      fix: expect.stringContaining("same absolute TENANT_DATA_DIR"),
    });
  });

  it("fails event streams when PUBLIC_URL goes through a proxy that buffers them (the guide's SSE disconnects)", async () => {
    const report = await doctorIn({ ...env, PUBLIC_URL: proxyUrl });
    expect(report.check("event streams")).toMatchObject({ status: "fail", detail: expect.stringContaining("a proxy buffers event streams"), fix: expect.stringContaining("proxy_buffering off") });
  });

  // Last: it takes the gateway's volume away for good.
  it("fails gateway and platform health when TENANT_DATA_DIR is removed under the running gateway (rm -rf)", async () => {
    await rm(gateway.dataDir, { recursive: true, force: true });
    const report = await doctorIn(env);
    expect(report.check("gateway")).toMatchObject({ status: "fail", detail: expect.stringContaining("is unhealthy: storage_unavailable: TENANT_DATA_DIR is gone") });
    expect(report.check("platform health")).toMatchObject({ status: "fail", detail: expect.stringContaining("gateway: TENANT_DATA_DIR is gone") });
    expect(report.check("tenant data dir")).toMatchObject({ status: "fail", detail: expect.stringContaining("does not exist although a gateway is running") });
  });
});
