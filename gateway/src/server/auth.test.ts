import { ApiErrorBody } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { startServer, type RunningServer } from "./start-server";

let harness: TestGateway | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  await harness?.cleanup();
  harness = undefined;
  server = undefined;
});

const TOKEN = "auth-test-token";

describe("hook token and the failure limiter over a real socket", () => {
  it("never locks out the valid token: 25 bad requests from loopback, then the platform still gets in while the bad caller stays limited", async () => {
    harness = await startTestGateway({ hookToken: TOKEN });
    server = await startServer(harness.gateway.app, 0, "127.0.0.1");
    const agents = `${server.url}/v1/agents`;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 25; attempt += 1) {
      const headers: Record<string, string> = { "x-tenant-id": TENANT_A, ...(attempt % 2 === 0 ? { authorization: "Bearer guess" } : {}) };
      statuses.push((await fetch(agents, { headers })).status);
    }
    expect(statuses.slice(0, 20).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(20)).toEqual([429, 429, 429, 429, 429]);

    for (const headers of [{ authorization: `Bearer ${TOKEN}` }, { "x-clawdbot-token": TOKEN }] as Record<string, string>[]) {
      const platform = await fetch(agents, { headers: { ...headers, "x-tenant-id": TENANT_A } });
      expect(platform.status).toBe(200);
      expect(await platform.json()).toEqual({ agents: [] });
    }
    const created = await fetch(agents, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_A, "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada", role: "Analyst" }),
    });
    expect(created.status).toBe(201);

    for (const headers of [{ authorization: "Bearer guess" }, {}] as Record<string, string>[]) {
      const stranger = await fetch(agents, { headers: { ...headers, "x-tenant-id": TENANT_A } });
      expect(stranger.status).toBe(429);
      expect(ApiErrorBody.parse(await stranger.json()).error.code).toBe("rate_limited");
      expect(Number(stranger.headers.get("retry-after"))).toBeGreaterThan(0);
    }
  });
});
