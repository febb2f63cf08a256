import { McpServerEnvelope, McpServerList, AgentToolsView, RunIntegrations } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { withSystem, withTenant } from "../../db/scopes";
import { startFakeGateway, type FakeGateway } from "../../test-support/fake-gateway";
import { startMcpTestServer, type McpTestServer } from "../../test-support/mcp-test-server";
import { sdkMcpToolLister } from "../../test-support/sdk-mcp-tool-lister";
import { sendMessage } from "../../test-support/send-message";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type CallOptions, type TestPlatform } from "../../test-support/test-platform";
import { LOOPBACK_OUTBOUND } from "../../test-support/mcp-test-server";

const API_KEY = "sk-live-very-secret-0123456789";
let gateway: FakeGateway;
let platform: TestPlatform;
let mcp: McpTestServer;
let call: ReturnType<typeof caller>;
const lister = sdkMcpToolLister();
let owner: { token: string; userId: string; tenantId: string };
let member: { token: string; userId: string; tenantId: string };
let outsider: { token: string; userId: string; tenantId: string };
/** Every body the platform answered in this file, and every console line: no header value or token may be in one. */
const answers: string[] = [];
const logged: string[] = [];

async function json(response: Response): Promise<unknown> {
  const text = await response.text();
  answers.push(text);
  return JSON.parse(text) as unknown;
}

async function createServer(token: string, body: Record<string, unknown>) {
  const response = await call("POST", "/api/integrations/mcp/servers", { token, body });
  expect(response.status).toBe(201);
  return McpServerEnvelope.parse(await json(response)).server;
}

async function refresh(token: string, id: string) {
  const response = await call("POST", `/api/integrations/mcp/servers/${id}/refresh`, { token });
  expect(response.status).toBe(200);
  return McpServerEnvelope.parse(await json(response)).server;
}

/** The member, in the owner's organisation (their own, from signing up, is their default). */
const asMember = () => ({ token: member.token, headers: { "x-tenant-id": owner.tenantId } });

async function runIntegrations(who: string | CallOptions, agent: string): Promise<RunIntegrations> {
  const run = await sendMessage(call, { ...(typeof who === "string" ? { token: who } : who), agent, message: "Use your tools" });
  expect(run.status).toBe(200);
  return RunIntegrations.parse(gateway.runs.get(run.runId!)?.integrations);
}

beforeAll(async () => {
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((arg) => (arg instanceof Error ? `${arg.message} ${arg.stack ?? ""}` : typeof arg === "string" ? arg : JSON.stringify(arg))).join(" "));
      original(...args);
    });
  }
  gateway = await startFakeGateway();
  mcp = await startMcpTestServer({ requiredHeaders: { "x-api-key": API_KEY } });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, parts: { integrations: { outbound: LOOPBACK_OUTBOUND }, mcpTools: lister, capabilities: { web: async () => ({ fetch: true, search: true }) } } });
  call = caller(platform);
  owner = await signUp(platform, "owner@mcp.example");
  member = await joinAs(platform, owner, "member@mcp.example", "member");
  outsider = await signUp(platform, "outsider@mcp.example");
  for (const token of [owner.token, outsider.token]) expect((await call("POST", "/api/agents", { token, body: { name: token === owner.token ? "Ada" : "Otto", role: "Helper" } })).status).toBe(201);
}, 60_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.close();
  await mcp?.close();
});

describe("MCP servers with headers", () => {
  let serverId = "";

  it("registers a server with write-only headers, lists its tools through the gateway, and shows the headers only by name and hint", async () => {
    const server = await createServer(owner.token, { name: "Tools", namespace: "tools", url: mcp.url, auth: "headers", headers: { "X-Api-Key": API_KEY } });
    serverId = server.id;
    expect(server).toMatchObject({ status: "unchecked", auth: "headers", headers: [{ name: "X-Api-Key", hint: "…6789" }], tools: [] });

    const refreshed = await refresh(owner.token, serverId);
    expect(refreshed.status).toBe("ok");
    expect(refreshed.tools.map((tool) => tool.name).sort()).toEqual(["add", "echo"]);
    // The MCP server got the decrypted header.
    expect(mcp.requests.at(-1)?.["x-api-key"]).toBe(API_KEY);
    expect(lister.calls.at(-1)).toEqual({ tenantId: owner.tenantId, serverId });

    // Members see the list (without secrets), as do they the one server.
    const list = McpServerList.parse(await json(await call("GET", "/api/integrations/mcp/servers", asMember())));
    expect(list.servers.map((each) => ({ namespace: each.namespace, status: each.status, tools: each.tools.length }))).toEqual([{ namespace: "tools", status: "ok", tools: 2 }]);
    expect((await call("GET", `/api/integrations/mcp/servers/${serverId}`, asMember())).status).toBe(200);
  });

  it("grants an agent tools, and a chat's run gets the server with its decrypted headers and the granted tools only", async () => {
    const put = await call("PUT", "/api/agents/ada/tools", {
      token: owner.token,
      body: { grants: [{ source: "mcp", serverId, tool: "echo", mode: "allow" }, { source: "mcp", serverId, tool: "add", mode: "ask" }, { source: "web", tool: "web_fetch", mode: "allow" }] },
    });
    expect(put.status).toBe(200);
    const view = AgentToolsView.parse(await json(put));
    expect(view.web).toEqual([
      { name: "web_fetch", available: true, mode: "allow" },
      { name: "web_search", available: true, mode: null },
    ]);
    expect(view.mcp[0]?.tools.map((tool) => [tool.name, tool.mode])).toEqual([
      ["echo", "allow"],
      ["add", "ask"],
    ]);
    // Members read what the agent may use.
    expect(AgentToolsView.parse(await json(await call("GET", "/api/agents/ada/tools", asMember())))).toEqual(view);

    const integrations = await runIntegrations(asMember(), "ada");
    expect(integrations.web).toEqual({ fetch: true, search: false });
    expect(integrations.mcp).toEqual([
      {
        serverId,
        namespace: "tools",
        transport: "streamable-http",
        url: mcp.url,
        headers: { "X-Api-Key": API_KEY },
        revision: expect.any(String),
        tools: expect.arrayContaining([{ name: "echo", mode: "allow" }, { name: "add", mode: "ask" }]),
      },
    ]);
    // Another agent of the organisation gets nothing it was not granted.
    await call("POST", "/api/agents", { token: owner.token, body: { name: "Bea", role: "Helper" } });
    expect((await runIntegrations(owner.token, "bea")).mcp).toEqual([]);
  });

  it("changes the run's revision when a header changes, and marks the server needs_auth when the server refuses the new one", async () => {
    const before = (await runIntegrations(owner.token, "ada")).mcp[0]?.revision;
    const patch = await call("PATCH", `/api/integrations/mcp/servers/${serverId}`, { token: owner.token, body: { headers: { "X-Api-Key": "wrong-value-000000" } } });
    expect(McpServerEnvelope.parse(await json(patch)).server).toMatchObject({ status: "unchecked", headers: [{ name: "X-Api-Key", hint: "…0000" }] });
    expect((await runIntegrations(owner.token, "ada")).mcp[0]?.revision).not.toBe(before);
    const refused = await refresh(owner.token, serverId);
    expect(refused.status).toBe("needs_auth");
    expect(refused.lastError).toMatch(/401/);
    // Its cached tools stay, so grants survive a bad key.
    expect(refused.tools).toHaveLength(2);
    await call("PATCH", `/api/integrations/mcp/servers/${serverId}`, { token: owner.token, body: { headers: { "X-Api-Key": API_KEY } } });
    expect((await refresh(owner.token, serverId)).status).toBe("ok");
  });

  it("refuses grants of tools the server does not list, servers of another organisation, and a taken namespace, with clear codes", async () => {
    const unknown = await call("PUT", "/api/agents/ada/tools", { token: owner.token, body: { grants: [{ source: "mcp", serverId, tool: "rm_rf", mode: "allow" }] } });
    expect(await errorOf(unknown)).toMatchObject({ status: 400, code: "mcp_unknown_tool" });
    const taken = await call("POST", "/api/integrations/mcp/servers", { token: owner.token, body: { name: "Again", namespace: "tools", url: mcp.url } });
    expect(await errorOf(taken)).toMatchObject({ status: 409, code: "mcp_namespace_taken" });
    const blocked = await call("POST", "/api/integrations/mcp/servers", { token: owner.token, body: { name: "Metadata", namespace: "meta", url: "http://169.254.169.254/mcp" } });
    expect(await errorOf(blocked)).toMatchObject({ status: 422, code: "outbound_blocked", message: expect.stringMatching(/169\.254\.169\.254/) });
    const badHeader = await call("POST", "/api/integrations/mcp/servers", { token: owner.token, body: { name: "Bad", namespace: "bad", url: mcp.url, auth: "headers", headers: { "X-Key": "a\nb" } } });
    expect(await errorOf(badHeader)).toMatchObject({ status: 400, code: "validation_failed" });
  });

  it("keeps organisations apart: another organisation's server is 404 everywhere and never in its runs", async () => {
    const attempts: [string, string, unknown][] = [
      ["GET", `/api/integrations/mcp/servers/${serverId}`, undefined],
      ["PATCH", `/api/integrations/mcp/servers/${serverId}`, { name: "Mine now" }],
      ["POST", `/api/integrations/mcp/servers/${serverId}/refresh`, undefined],
      ["POST", `/api/integrations/mcp/servers/${serverId}/oauth/start`, undefined],
      ["DELETE", `/api/integrations/mcp/servers/${serverId}`, undefined],
      ["PUT", "/api/agents/otto/tools", { grants: [{ source: "mcp", serverId, tool: "echo", mode: "allow" }] }],
    ];
    const listed = lister.calls.length;
    for (const [method, path, body] of attempts) {
      const response = await call(method, path, { token: outsider.token, body });
      expect({ path, ...(await errorOf(response)) }).toMatchObject({ path, status: 404, code: "mcp_server_not_found" });
    }
    expect(lister.calls.length).toBe(listed);
    expect(McpServerList.parse(await json(await call("GET", "/api/integrations/mcp/servers", { token: outsider.token }))).servers).toEqual([]);
    expect(AgentToolsView.parse(await json(await call("GET", "/api/agents/otto/tools", { token: outsider.token }))).mcp).toEqual([]);
    expect((await call("GET", "/api/agents/ada/tools", { token: outsider.token })).status).toBe(404);
    expect((await runIntegrations(outsider.token, "otto")).mcp).toEqual([]);
    // And A's server is untouched.
    expect(McpServerEnvelope.parse(await json(await call("GET", `/api/integrations/mcp/servers/${serverId}`, { token: owner.token }))).server.name).toBe("Tools");
  });

  it("lets members read but not manage, and API keys read with agents:read only", async () => {
    const create = await call("POST", "/api/integrations/mcp/servers", { ...asMember(), body: { name: "M", namespace: "m", url: mcp.url } });
    expect(await errorOf(create)).toMatchObject({ status: 403, code: "forbidden" });
    expect((await errorOf(await call("PUT", "/api/agents/ada/tools", { ...asMember(), body: { grants: [] } }))).status).toBe(403);
    const key = (await json(await call("POST", "/api/keys", { token: owner.token, body: { name: "reader", scopes: ["agents:read"] } }))) as { secret: string };
    expect((await call("GET", "/api/integrations/mcp/servers", { token: key.secret })).status).toBe(200);
    expect((await errorOf(await call("POST", `/api/integrations/mcp/servers/${serverId}/refresh`, { token: key.secret }))).status).toBe(403);
  });

  it("deletes a server with its grants and secrets, and an agent with its grants", async () => {
    const doomed = await createServer(owner.token, { name: "Doomed", namespace: "doomed", url: mcp.url, auth: "headers", headers: { "X-Api-Key": API_KEY } });
    await refresh(owner.token, doomed.id);
    await call("PUT", "/api/agents/bea/tools", { token: owner.token, body: { grants: [{ source: "mcp", serverId: doomed.id, tool: "echo", mode: "allow" }] } });
    expect((await call("DELETE", `/api/integrations/mcp/servers/${doomed.id}`, { token: owner.token })).status).toBe(204);
    const names = await withTenant(platform.database.db, owner.tenantId, (trx) => platform.secrets.list(trx, owner.tenantId));
    expect(names.map((secret) => secret.name).filter((name) => name.includes(doomed.id))).toEqual([]);
    expect(names.map((secret) => secret.name)).toContain(`mcp/${serverId}/headers`);
    expect((await runIntegrations(owner.token, "bea")).mcp).toEqual([]);

    await call("PUT", "/api/agents/bea/tools", { token: owner.token, body: { grants: [{ source: "mcp", serverId, tool: "echo", mode: "allow" }] } });
    expect((await call("DELETE", "/api/agents/bea", { token: owner.token })).status).toBe(204);
    const left = await withSystem(platform.database.system, (trx) => trx.selectFrom("agent_tool_grants").select("agent_slug").where("tenant_id", "=", owner.tenantId).execute());
    expect(left.map((row) => row.agent_slug)).not.toContain("bea");
  });

  it("exports the servers and grants, with the header secret by name only", async () => {
    const exported = (await json(await call("GET", "/api/tenant/export", { token: owner.token }))) as {
      mcpServers: { namespace: string }[];
      agentToolGrants: { agent: string; tool: string; mode: string }[];
      secrets: { name: string }[];
    };
    expect(exported.mcpServers.map((server) => server.namespace)).toEqual(["tools"]);
    expect(exported.agentToolGrants).toEqual(expect.arrayContaining([expect.objectContaining({ agent: "ada", tool: "echo", mode: "allow" })]));
    expect(exported.secrets.map((secret) => secret.name)).toContain(`mcp/${serverId}/headers`);
  });

  it("never shows a header value in an answer", () => {
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.filter((text) => text.includes(API_KEY) || text.includes("wrong-value-000000"))).toEqual([]);
    expect(logged.filter((line) => line.includes(API_KEY) || line.includes("wrong-value-000000"))).toEqual([]);
  });
});

describe("MCP servers with OAuth", () => {
  let protectedServer: McpTestServer;
  let serverId = "";
  const callbackOf = async (location: string) => {
    const url = new URL(location);
    const response = await call("GET", `${url.pathname}${url.search}`);
    expect(response.status).toBe(302);
    return new URL(response.headers.get("location") ?? "");
  };
  const start = async () => {
    const response = await call("POST", `/api/integrations/mcp/servers/${serverId}/oauth/start`, { token: owner.token });
    expect(response.status).toBe(200);
    return ((await json(response)) as { authorizationUrl: string }).authorizationUrl;
  };
  const storedOAuth = (tenantId: string) => withTenant(platform.database.db, tenantId, (trx) => platform.secrets.reveal(trx, tenantId, `mcp/${serverId}/oauth`));

  beforeAll(async () => {
    protectedServer = await startMcpTestServer({ oauth: {} });
  });
  afterAll(async () => {
    await protectedServer?.close();
  });

  it("connects through discovery, dynamic registration and PKCE with the resource parameter, then lists tools with the token", async () => {
    const server = await createServer(owner.token, { name: "Protected", namespace: "protected", url: protectedServer.url, auth: "oauth" });
    serverId = server.id;
    expect(server.oauth).toEqual({ connected: false });
    const notYet = await refresh(owner.token, serverId);
    expect(notYet).toMatchObject({ status: "needs_auth", lastError: expect.stringMatching(/connect/i) });

    const authorizationUrl = new URL(await start());
    expect(authorizationUrl.origin).toBe(protectedServer.origin);
    expect(authorizationUrl.searchParams.get("code_challenge_method")).toBe("S256");
    expect(authorizationUrl.searchParams.get("redirect_uri")).toBe("http://platform.test/oauth/mcp/callback");
    const back = await callbackOf(await protectedServer.approve(authorizationUrl.href));
    expect(`${back.pathname}${back.search}`).toBe(`/integrations?mcp=connected&server=${serverId}`);
    expect(protectedServer.oauth).toMatchObject({ registrations: 1, codeExchanges: 1, authorizations: [{ resource: protectedServer.url, scope: "tools" }] });

    const connected = await refresh(owner.token, serverId);
    expect(connected).toMatchObject({ status: "ok", oauth: { connected: true } });
    expect(connected.tools.map((tool) => tool.name).sort()).toEqual(["add", "echo"]);

    await call("PUT", "/api/agents/ada/tools", { token: owner.token, body: { grants: [{ source: "mcp", serverId, tool: "add", mode: "allow" }] } });
    const run = (await runIntegrations(owner.token, "ada")).mcp.find((each) => each.serverId === serverId);
    const token = (JSON.parse((await storedOAuth(owner.tenantId)) ?? "{}") as { accessToken?: string }).accessToken;
    expect(token).toMatch(/^\S{8,}$/);
    expect(run?.headers).toEqual({ authorization: `Bearer ${token}` });
    expect(answers.some((text) => text.includes(token!))).toBe(false);
  });

  it("refuses a state used twice, an expired one, and one from a user no longer allowed", async () => {
    const first = await protectedServer.approve(await start());
    expect((await callbackOf(first)).searchParams.get("mcp")).toBe("connected");
    expect((await callbackOf(first)).searchParams.get("mcp_error")).toBe("invalid_state");

    const late = await protectedServer.approve(await start());
    await withSystem(platform.database.system, (trx) => trx.updateTable("mcp_oauth_states").set({ expires_at: new Date(Date.now() - 1000) }).where("server_id", "=", serverId).execute());
    expect((await callbackOf(late)).searchParams.get("mcp_error")).toBe("expired_state");

    expect((await callbackOf("http://platform.test/oauth/mcp/callback?code=x&state=made-up")).searchParams.get("mcp_error")).toBe("invalid_state");

    // An admin starts, is made a member meanwhile: the state no longer lets them connect it.
    const admin = await joinAs(platform, owner, "admin@mcp.example", "admin");
    const started = await call("POST", `/api/integrations/mcp/servers/${serverId}/oauth/start`, { token: admin.token, headers: { "x-tenant-id": owner.tenantId } });
    const { authorizationUrl } = (await json(started)) as { authorizationUrl: string };
    expect((await call("PATCH", `/api/members/${admin.userId}`, { token: owner.token, body: { role: "member" } })).status).toBe(200);
    expect((await callbackOf(await protectedServer.approve(authorizationUrl))).searchParams.get("mcp_error")).toBe("forbidden");
    const exchanges = protectedServer.oauth.codeExchanges;
    expect(exchanges).toBe(2);
  });

  it("refreshes an expired token once before a run, even for runs that start together, and leaves the server out when refreshing fails", async () => {
    const expire = async () => {
      await withTenant(platform.database.db, owner.tenantId, async (trx) => {
        const stored = JSON.parse((await platform.secrets.reveal(trx, owner.tenantId, `mcp/${serverId}/oauth`)) ?? "{}") as Record<string, unknown>;
        await platform.secrets.put(trx, owner.tenantId, { name: `mcp/${serverId}/oauth`, kind: "mcp-oauth", value: JSON.stringify({ ...stored, expiresAt: Date.now() - 1000 }) });
      });
    };
    await expire();
    const refreshes = protectedServer.oauth.refreshes;
    const [one, two] = await Promise.all([runIntegrations(owner.token, "ada"), runIntegrations(asMember(), "ada")]);
    expect(protectedServer.oauth.refreshes).toBe(refreshes + 1);
    const bearer = one.mcp.find((each) => each.serverId === serverId)?.headers.authorization;
    expect(bearer).toMatch(/^Bearer /);
    expect(two.mcp.find((each) => each.serverId === serverId)?.headers.authorization).toBe(bearer);
    // The refreshed token works at the server.
    expect((await refresh(owner.token, serverId)).status).toBe("ok");

    protectedServer.revokeRefreshTokens();
    await expire();
    const run = await runIntegrations(owner.token, "ada");
    expect(run.mcp.map((each) => each.serverId)).not.toContain(serverId);
    const server = McpServerEnvelope.parse(await json(await call("GET", `/api/integrations/mcp/servers/${serverId}`, { token: owner.token }))).server;
    expect(server).toMatchObject({ status: "needs_auth", lastError: expect.stringMatching(/refreshed/) });
  });
});
