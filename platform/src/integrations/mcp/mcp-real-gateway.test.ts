/**
 * MCP servers with the real gateway (its own process): the platform lists a server's tools through
 * the gateway's MCP client (`POST /v1/integrations/mcp/tools`), a refused key or an unconnected
 * OAuth server reads as `needs_auth`, the gateway's capabilities say which web tools exist, and a
 * chat whose agent was granted a tool runs with it.
 */
import { McpServerEnvelope, AgentToolsView } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayProcess, type GatewayProcess } from "../../test-support/gateway-process";
import { LOOPBACK_OUTBOUND, startMcpTestServer, type McpTestServer } from "../../test-support/mcp-test-server";
import { sendMessage } from "../../test-support/send-message";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../../test-support/test-platform";

const KEY = "real-gateway-key-0123456789";
const hookToken = "mcp-real-gateway-hook-token-0123456789";
let gateway: GatewayProcess;
let platform: TestPlatform;
let mcp: McpTestServer;
let oauthServer: McpTestServer;
let call: ReturnType<typeof caller>;
let owner: { token: string; tenantId: string };

beforeAll(async () => {
  mcp = await startMcpTestServer({ requiredHeaders: { "x-api-key": KEY } });
  oauthServer = await startMcpTestServer({ oauth: {} });
  gateway = await startGatewayProcess({ hookToken, env: { WORKFORCE_OUTBOUND_ALLOW_HOSTS: "127.0.0.1" } });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken, parts: { integrations: { outbound: LOOPBACK_OUTBOUND } } });
  call = caller(platform);
  owner = await signUp(platform, "real@mcp.example");
  expect((await call("POST", "/api/agents", { token: owner.token, body: { name: "Ada", role: "Helper" } })).status).toBe(201);
}, 120_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.stop();
  await mcp?.close();
  await oauthServer?.close();
});

const refresh = async (id: string) => McpServerEnvelope.parse(await (await call("POST", `/api/integrations/mcp/servers/${id}/refresh`, { token: owner.token })).json()).server;

describe("MCP servers through the real gateway", () => {
  it("lists a server's tools with its header, marks a refused key needs_auth, and an agent granted a tool chats with it", async () => {
    const created = await call("POST", "/api/integrations/mcp/servers", { token: owner.token, body: { name: "Tools", namespace: "tools", url: mcp.url, auth: "headers", headers: { "X-Api-Key": KEY } } });
    const { id } = McpServerEnvelope.parse(await created.json()).server;
    const listed = await refresh(id);
    expect(listed).toMatchObject({ status: "ok", lastError: null });
    expect(listed.tools.map((tool) => tool.name).sort()).toEqual(["add", "echo"]);
    expect(mcp.requests.at(-1)?.["x-api-key"]).toBe(KEY);

    const tools = await call("PUT", "/api/agents/ada/tools", { token: owner.token, body: { grants: [{ source: "mcp", serverId: id, tool: "echo", mode: "allow" }, { source: "web", tool: "web_fetch", mode: "allow" }] } });
    const view = AgentToolsView.parse(await tools.json());
    // The gateway has the web tools but no search provider configured.
    expect(view.web).toEqual([
      { name: "web_fetch", available: true, mode: "allow" },
      { name: "web_search", available: false, mode: null },
    ]);
    const run = await sendMessage(call, { token: owner.token, agent: "ada", message: "hello" });
    expect(run.status).toBe(200);
    expect(run.text).toContain("event: run-end");

    await call("PATCH", `/api/integrations/mcp/servers/${id}`, { token: owner.token, body: { headers: { "X-Api-Key": "not-the-key-00000" } } });
    const refused = await refresh(id);
    expect(refused.status).toBe("needs_auth");
    expect(refused.lastError).toMatch(/401|credentials|authori[sz]/i);
    expect(refused.lastError).not.toContain("not-the-key-00000");
  });

  it("needs authorisation for an OAuth server until it is connected, then lists its tools with the token", async () => {
    const created = await call("POST", "/api/integrations/mcp/servers", { token: owner.token, body: { name: "Protected", namespace: "protected", url: oauthServer.url, auth: "oauth" } });
    const { id } = McpServerEnvelope.parse(await created.json()).server;
    expect((await refresh(id)).status).toBe("needs_auth");
    const started = (await (await call("POST", `/api/integrations/mcp/servers/${id}/oauth/start`, { token: owner.token })).json()) as { authorizationUrl: string };
    const back = new URL(await oauthServer.approve(started.authorizationUrl));
    const landed = await call("GET", `${back.pathname}${back.search}`);
    expect(landed.headers.get("location")).toContain("mcp=connected");
    const connected = await refresh(id);
    expect(connected.status).toBe("ok");
    expect(connected.tools.map((tool) => tool.name).sort()).toEqual(["add", "echo"]);
  });
});
