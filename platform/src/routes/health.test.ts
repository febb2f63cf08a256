import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { dataDirMarkerPath } from "@workforce/protocol/tenant-path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openDatabase } from "../db/open-database";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { startGatewayProcess, type GatewayProcess } from "../test-support/gateway-process";
import { createTestPlatform, errorOf, signUp, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";
import type { HealthReport } from "./health";

let tmp: string;
let gateway: FakeGateway;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "workforce-health-"));
  await writeFile(dataDirMarkerPath(tmp), JSON.stringify({ instanceId: "same" }));
  gateway = await startFakeGateway({ dataDir: { path: tmp, instanceId: "same" } });
});
afterAll(async () => {
  await gateway.close();
  await rm(tmp, { recursive: true, force: true });
});

/** The health report as the installation's operator sees it (the first account signed up is the operator). */
async function health(platform: TestPlatform, token?: string): Promise<{ status: number; body: HealthReport }> {
  const operator = token ?? (await signUp(platform, "operator@example.com")).token;
  const response = await platform.app.request(`${TEST_ORIGIN}/api/health`, { headers: { authorization: `Bearer ${operator}` } });
  return { status: response.status, body: (await response.json()) as HealthReport };
}

describe("GET /api/health", () => {
  it("is 200 ok when database, gateway and data dir agree", async () => {
    const platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { tenantDataDir: tmp } });
    try {
      const { status, body } = await health(platform);
      expect(status).toBe(200);
      expect(body).toEqual({
        status: "ok",
        database: { ok: true },
        gateway: { ok: true, url: gateway.url, version: "0.0.0-fake" },
        dataDir: { ok: true, path: tmp, instanceId: "same", gatewayPath: tmp },
      });
    } finally {
      await platform.close();
    }
  });

  it("tells strangers and ordinary members only the status, never paths or URLs", async () => {
    const platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { tenantDataDir: path.join(tmp, "elsewhere") } });
    try {
      const operator = await signUp(platform, "operator@example.com");
      const member = await signUp(platform, "member@example.com");
      const callers: Record<string, string>[] = [{}, { authorization: `Bearer ${member.token}` }, { authorization: "Bearer not-a-token" }];
      for (const headers of callers) {
        const response = await platform.app.request(`${TEST_ORIGIN}/api/health`, { headers });
        expect(response.status).toBe(503);
        const text = await response.text();
        expect(JSON.parse(text)).toEqual({ status: "degraded" });
        expect(text).not.toContain(tmp);
      }
      expect((await health(platform, operator.token)).body.dataDir.path).toBe(path.join(tmp, "elsewhere"));
    } finally {
      await platform.close();
    }
  });

  it("tells a stranger only that it is ok when all is well", async () => {
    const platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { tenantDataDir: tmp } });
    try {
      const response = await platform.app.request(`${TEST_ORIGIN}/api/health`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ status: "ok" });
      expect(text).not.toContain(tmp);
      expect(text).not.toContain(new URL(gateway.url).host);
    } finally {
      await platform.close();
    }
  });

  it("never names the gateway's address to a user who is not the operator while it is down, whatever they ask", async () => {
    const down = await startFakeGateway();
    await down.close();
    const platform = await createTestPlatform({ gatewayUrl: down.url, parts: { tenantDataDir: tmp } });
    try {
      await signUp(platform, "operator@example.com");
      const { token } = await signUp(platform, "member@example.com");
      const host = new URL(down.url).host;
      for (const [method, path, body] of [
        ["GET", "/api/agents", undefined],
        ["POST", "/api/agents", { name: "Ada", role: "Analyst" }],
        ["GET", "/api/agents/ada/sessions", undefined],
        ["POST", "/api/agents/ada/messages", { message: "Hi" }],
        ["GET", "/api/runs/run-1/events", undefined],
        ["GET", "/api/me", undefined],
        ["GET", "/api/health", undefined],
      ] as const) {
        const response = await platform.app.request(`${TEST_ORIGIN}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        const text = await response.text();
        expect({ path, status: response.status, leaks: text.includes(host) || text.includes(down.url) }).toEqual({ path, status: 503, leaks: false });
      }
    } finally {
      await platform.close();
    }
  });

  it("is 503 degraded when the data dirs differ", async () => {
    const platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { tenantDataDir: path.join(tmp, "elsewhere") } });
    try {
      const { status, body } = await health(platform);
      expect(status).toBe(503);
      expect(body.status).toBe("degraded");
      expect(body.dataDir.ok).toBe(false);
      expect(body.dataDir.error).toContain(path.join(tmp, "elsewhere"));
    } finally {
      await platform.close();
    }
  });

  it("is 503 when the gateway is down, and API calls get 503 gateway_unavailable", async () => {
    const down = await startFakeGateway();
    await down.close();
    const platform = await createTestPlatform({ gatewayUrl: down.url, parts: { tenantDataDir: tmp } });
    try {
      const { token } = await signUp(platform, "ada@example.com");
      const { status, body } = await health(platform, token);
      expect(status).toBe(503);
      expect(body.gateway).toMatchObject({ ok: false, url: down.url });
      const response = await platform.app.request(`${TEST_ORIGIN}/api/agents`, { headers: { authorization: `Bearer ${token}` } });
      const error = await errorOf(response);
      expect(error).toMatchObject({ status: 503, code: "gateway_unavailable" });
      // Members are told the gateway is down, not where it lives.
      expect(error.message).not.toContain(down.url);
    } finally {
      await platform.close();
    }
  });

  it("answers 503 database_unavailable, not 500, when the database cannot be reached", async () => {
    const platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { tenantDataDir: tmp } });
    const unreachable = await openDatabase({ databaseUrl: "postgresql://postgres@127.0.0.1:9/none", migrate: false });
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const broken = await createTestPlatform({ gatewayUrl: gateway.url, database: platform.database, parts: { tenantDataDir: tmp, database: { db: unreachable.db, system: platform.database.system } } });
    try {
      const { token } = await signUp(platform, "ada@example.com");
      const response = await broken.app.request(`${TEST_ORIGIN}/api/agents`, { headers: { authorization: `Bearer ${token}` } });
      expect(await errorOf(response)).toMatchObject({ status: 503, code: "database_unavailable" });
      expect(response.headers.get("retry-after")).toBe("5");
      const { status, body } = await health(broken, token);
      expect(status).toBe(503);
      expect(body.database.ok).toBe(false);
      expect(errors).toHaveBeenCalledWith("database unavailable", expect.stringMatching(/ECONNREFUSED|connect/));
    } finally {
      await broken.close();
      await unreachable.close();
      await platform.close();
    }
  });
});

describe("GET /api/health against the real gateway process", { timeout: 60_000 }, () => {
  let real: GatewayProcess;
  beforeAll(async () => {
    real = await startGatewayProcess({ hookToken: "the-gateway-token" });
  });
  afterAll(async () => {
    await real.stop();
  });

  it("is ok with the gateway's token", async () => {
    const platform = await createTestPlatform({ gatewayUrl: real.url, hookToken: "the-gateway-token", parts: { tenantDataDir: real.dataDir } });
    try {
      const { status, body } = await health(platform);
      expect({ status, gateway: body.gateway.ok }).toEqual({ status: 200, gateway: true });
    } finally {
      await platform.close();
    }
  });

  it.each([
    ["a wrong token", "not-the-gateway-token"],
    ["no token at all (the gateway's GET / answers a local caller without one)", undefined],
  ])("is 503 degraded, saying the token is rejected, with %s", async (_case, hookToken) => {
    const platform = await createTestPlatform({ gatewayUrl: real.url, ...(hookToken ? { hookToken } : {}), parts: { tenantDataDir: real.dataDir } });
    try {
      const { status, body } = await health(platform);
      expect(status).toBe(503);
      expect(body.status).toBe("degraded");
      expect(body.gateway).toMatchObject({ ok: false, error: expect.stringContaining("rejected the platform's credentials; CLAWDBOT_HOOK_TOKEN must be the same for both services") });
      expect(JSON.stringify(body)).not.toContain("the-gateway-token");
    } finally {
      await platform.close();
    }
  });
});
