import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { createGuardedFetch, PUBLIC_ONLY, type GuardedFetch } from "@workforce/net-guard";
import { McpToolsAnswer, McpToolsErrorBody, type RunEvent, type RunMcpServer, type ToolGrant } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createProviders } from "../../llm/create-providers";
import type { Logger } from "../../logger";
import { startMcpTestServer, type McpTestServer } from "../../test-support/mcp-test-server";
import { readRunEvents, replyText, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../../test-support/test-gateway";
import { createRunToolSources, type RunToolSources } from "../run-tool-sources";

const TOKEN = "Bearer s3cret-token-0123456789";
const SERVER_ID = "0b0b0b0b-0000-4000-8000-000000000001";
const OTHER_SERVER_ID = "0b0b0b0b-0000-4000-8000-000000000002";

let upstream: FakeUpstream;
let mcp: McpTestServer | undefined;
let harness: TestGateway | undefined;
let toolSources: RunToolSources | undefined;
let guardedFetch: GuardedFetch | undefined;
let logs: string[] = [];
let toolsChanged: (() => void) | undefined;
let mcpTransport: "streamable-http" | "sse" = "streamable-http";

const capturingLogger: Logger = {
  info: (message) => logs.push(message),
  warn: (message) => logs.push(message),
  error: (message, error) => logs.push(`${message} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`),
};

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await harness?.cleanup();
  await toolSources?.close();
  await guardedFetch?.close();
  await mcp?.close();
  harness = undefined;
  toolSources = undefined;
  guardedFetch = undefined;
  mcp = undefined;
  logs = [];
  upstream.reset();
});

async function start(options: { transport?: "streamable-http" | "sse"; timeoutMs?: number; perTenant?: number; total?: number; idleMs?: number; maxResponseBytes?: number; outbound?: "default" } = {}): Promise<TestGateway> {
  mcpTransport = options.transport ?? "streamable-http";
  mcp = await startMcpTestServer({ transport: mcpTransport, authorization: TOKEN });
  // The SSRF guard as in production; the test server is on loopback, so it is allowed by name
  // (WORKFORCE_OUTBOUND_ALLOW_HOSTS=127.0.0.1), except where a test checks the default refusal.
  guardedFetch = createGuardedFetch(options.outbound === "default" ? PUBLIC_ONLY : { allowPrivateNetwork: false, allowHosts: ["127.0.0.1"] });
  toolSources = createRunToolSources({
    config: { mcp: { toolTimeoutMs: options.timeoutMs ?? 30_000, maxSessionsPerTenant: options.perTenant ?? 8, maxSessions: options.total ?? 64, idleMs: options.idleMs, maxResponseBytes: options.maxResponseBytes } },
    logger: capturingLogger,
    fetch: guardedFetch,
    onMcpToolsChanged: () => toolsChanged?.(),
  });
  const providers = createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: undefined });
  harness = await startTestGateway({
    providers,
    config: { defaultModel: "claude-fake-1" },
    logger: capturingLogger,
    runToolSources: toolSources.sources,
    mcpProbe: toolSources.mcpProbe,
  });
  await harness.createAgent(TENANT_A);
  await harness.createAgent(TENANT_B);
  return harness;
}

function docsServer(overrides: Partial<RunMcpServer> = {}): RunMcpServer {
  return {
    serverId: SERVER_ID,
    namespace: "docs",
    transport: mcpTransport,
    url: mcp!.url,
    headers: { Authorization: TOKEN },
    revision: "r1",
    tools: [...["echo", "fail", "slow", "picture", "whoami", "flood"].map((name): ToolGrant => ({ name, mode: "allow" })), { name: "hidden", mode: "ask" }],
    ...overrides,
  };
}

async function run(h: TestGateway, message: string, servers: RunMcpServer[], tenant = TENANT_A): Promise<RunEvent[]> {
  const response = await h.request("POST", "/v1/agents/ada/runs", {
    tenant,
    body: { message, sessionKey: "s", integrations: { mcp: servers } },
    headers: { accept: "text/event-stream" },
  });
  return readRunEvents(response);
}

function toolEnd(events: readonly RunEvent[]) {
  const end = events.find((event) => event.type === "tool-call-end");
  if (end?.type !== "tool-call-end") throw new Error(`no tool-call-end in ${JSON.stringify(events)}`);
  return end;
}

function offeredTools(requestIndex: number): { name: string; description: string; input_schema: unknown }[] {
  return (upstream.requests[requestIndex]!.body as { tools: { name: string; description: string; input_schema: unknown }[] }).tools;
}

function expectNoSecretInLogs(): void {
  for (const line of logs) expect(line).not.toContain("s3cret-token");
}

describe("MCP tools in runs (a real MCP server, the SDK client, a real gateway run)", () => {
  it("offers only the granted tools under namespaced names, calls one with the server's headers, and gives its text back", async () => {
    const h = await start();
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__echo", input: { text: "hello" } }, { kind: "text", text: "It said hello." });
    const events = await run(h, "Use the echo tool", [docsServer()]);
    expect(toolEnd(events)).toMatchObject({ name: "mcp__docs__echo", output: "echo: hello", isError: false });
    expect(replyText(events)).toBe("It said hello.");
    const names = offeredTools(0).map((tool) => tool.name);
    expect(names).toEqual(expect.arrayContaining(["mcp__docs__echo", "mcp__docs__fail", "mcp__docs__slow"]));
    // `hidden` is granted as `ask`: offered, and a call to it waits for a member's approval (issue 15).
    expect(names).toContain("mcp__docs__hidden");
    const echo = offeredTools(0).find((tool) => tool.name === "mcp__docs__echo")!;
    expect(echo.description).toBe("Echoes the text back.");
    expect(echo.input_schema).toMatchObject({ type: "object", properties: { text: { type: "string" } }, required: ["text"] });
    expect(mcp!.authorizations.length).toBeGreaterThan(0);
    expect(new Set(mcp!.authorizations)).toEqual(new Set([TOKEN]));
    expectNoSecretInLogs();
  });

  it("pauses a call to a tool granted `ask` (a tool mode cannot loosen it), hides a tool in deny mode, and never calls a denied one", async () => {
    const h = await start();
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__hidden", id: "toolu_hidden", input: {} }, { kind: "text", text: "Left it." });
    const toolModes = { mcp__docs__hidden: "allow", mcp__docs__echo: "deny" } as const;
    const response = await h.request("POST", "/v1/agents/ada/runs", {
      body: { message: "Use the hidden tool", sessionKey: "s", integrations: { mcp: [docsServer()], toolModes } },
      headers: { accept: "text/event-stream" },
    });
    const events = await readRunEvents(response);
    const names = offeredTools(0).map((tool) => tool.name);
    expect(names).toContain("mcp__docs__hidden");
    expect(names).not.toContain("mcp__docs__echo");
    const required = events.find((event) => event.type === "approval-required");
    expect(required).toMatchObject({ name: "mcp__docs__hidden", toolCallId: "toolu_hidden" });
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "paused" });

    const approvalId = required?.type === "approval-required" ? required.approvalId : "";
    const denied = await readRunEvents(
      await h.request("POST", `/v1/agents/ada/sessions/s/approvals/${approvalId}`, {
        body: { decision: "deny", integrations: { mcp: [docsServer()], toolModes } },
        headers: { accept: "text/event-stream" },
      }),
    );
    expect(toolEnd(denied)).toMatchObject({ name: "mcp__docs__hidden", isError: true });
    expect(toolEnd(denied).output).not.toContain("should not run");
    expect(replyText(denied)).toBe("Left it.");
  });

  it("describes images instead of inlining them, and keeps header values out of a tool's result", async () => {
    const h = await start();
    upstream.enqueue(
      { kind: "tool_use", name: "mcp__docs__picture", input: {}, parallel: [{ name: "mcp__docs__whoami", input: {} }] },
      { kind: "text", text: "Done." },
    );
    const events = await run(h, "Show me", [docsServer()]);
    const ends = events.filter((event) => event.type === "tool-call-end");
    expect(ends[0]).toMatchObject({ output: "[image: image/png, 3 KB, not shown]\na white square", isError: false });
    expect(ends[1]).toMatchObject({ output: "you sent [redacted]", isError: false });
  });

  it("cuts a long result with a marker, and ends an answer too large to read with mcp_result_too_large", async () => {
    const h = await start({ maxResponseBytes: 100_000 });
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__flood", input: { characters: 40_000 } }, { kind: "text", text: "Long." });
    const long = toolEnd(await run(h, "Long", [docsServer()]));
    expect(long.isError).toBe(false);
    expect(long.output).toMatch(/^x{30000}\n\[result cut: 10000 more characters not shown\]$/);
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__flood", input: { characters: 300_000 } }, { kind: "text", text: "Huge." });
    const huge = toolEnd(await run(h, "Huge", [docsServer()]));
    expect(huge.isError).toBe(true);
    expect(huge.output).toMatch(/^mcp_result_too_large: MCP server "docs" sent more than 100000 bytes in answer to call flood/);
    // The session was closed for it; the next run connects again.
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__echo", input: { text: "after" } }, { kind: "text", text: "ok" });
    expect(toolEnd(await run(h, "After", [docsServer()]))).toMatchObject({ output: "echo: after", isError: false });
    expect(mcp!.sessionsOpened).toBe(2);
  });

  it("maps the server's error result to mcp_tool_error in the transcript", async () => {
    const h = await start();
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__fail", input: {} }, { kind: "text", text: "It failed." });
    const events = await run(h, "Try it", [docsServer()]);
    expect(toolEnd(events)).toMatchObject({ output: "mcp_tool_error: the database is locked", isError: true });
    const history = await (await h.request("GET", "/v1/agents/ada/sessions/s")).json();
    expect(JSON.stringify(history)).toContain("mcp_tool_error: the database is locked");
  });

  it("ends a call that outlasts WORKFORCE_MCP_TOOL_TIMEOUT_MS with mcp_tool_timeout and cancels it at the server", async () => {
    const h = await start({ timeoutMs: 300 });
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__slow", input: {} }, { kind: "text", text: "Too slow." });
    // The slow tool never answers on its own: only the gateway's timeout can end the call.
    const events = await run(h, "Wait for it", [docsServer()]);
    await mcp!.slowCalled.promise;
    expect(toolEnd(events)).toMatchObject({ name: "mcp__docs__slow", isError: true });
    expect(toolEnd(events).output).toMatch(/^mcp_tool_timeout: MCP server "docs" did not answer in time/);
    await mcp!.slowCancelled.promise;
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
  });

  it("cancels a call at the server when the run is aborted", async () => {
    const h = await start();
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__slow", input: {} });
    const response = await h.request("POST", "/v1/agents/ada/runs", {
      body: { message: "Wait", sessionKey: "s", integrations: { mcp: [docsServer()] } },
      headers: { accept: "text/event-stream" },
    });
    await mcp!.slowCalled.promise;
    const runId = response.headers.get("x-run-id")!;
    expect((await h.request("POST", `/v1/runs/${runId}/abort`)).status).toBe(200);
    await mcp!.slowCancelled.promise;
    const events = await readRunEvents(response);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
  });

  it("reconnects when the server has forgotten the session: the failed call says mcp_unavailable, the next run works", async () => {
    const h = await start();
    await run(h, "One", [docsServer()]);
    mcp!.forgetSessions();
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__echo", input: { text: "two" } }, { kind: "text", text: "No." });
    const failed = await run(h, "Two", [docsServer()]);
    expect(toolEnd(failed)).toMatchObject({ isError: true });
    expect(toolEnd(failed).output).toMatch(/^mcp_unavailable: MCP server "docs" no longer knows this session/);
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__echo", input: { text: "three" } }, { kind: "text", text: "Yes." });
    const events = await run(h, "Three", [docsServer()]);
    expect(toolEnd(events)).toMatchObject({ output: "echo: three", isError: false });
    expect(mcp!.sessionsOpened).toBe(2);
  });

  it("offers a tool the server adds (notifications/tools/list_changed) to the next run, on the same session", async () => {
    const h = await start();
    const server = docsServer();
    server.tools.push({ name: "summarise", mode: "allow" });
    await run(h, "First", [server]);
    expect(offeredTools(0).map((tool) => tool.name)).not.toContain("mcp__docs__summarise");
    await mcp!.notificationStreamOpen();
    const changed = new Promise<void>((resolve) => {
      toolsChanged = resolve;
    });
    mcp!.addTool("summarise", "Summarises a document.");
    await changed;
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__summarise", input: {} }, { kind: "text", text: "Summarised." });
    const events = await run(h, "Second", [server]);
    expect(offeredTools(1).find((tool) => tool.name === "mcp__docs__summarise")).toMatchObject({ description: "Summarises a document." });
    expect(toolEnd(events)).toMatchObject({ output: "summarise done", isError: false });
    expect(mcp!.sessionsOpened).toBe(1);
  });

  it("offers nothing from a server that refuses the headers, and logs mcp_auth_required without the header value", async () => {
    const h = await start();
    const events = await run(h, "Hi", [docsServer({ headers: { Authorization: "Bearer s3cret-token-WRONG" } })]);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(offeredTools(0).some((tool) => tool.name.startsWith("mcp__"))).toBe(false);
    expect(logs.some((line) => line.includes('MCP server "docs" are not offered: mcp_auth_required'))).toBe(true);
    expectNoSecretInLogs();
  });

  it("offers nothing from a loopback server by default: the SSRF guard refuses it, and the run goes on", async () => {
    const h = await start({ outbound: "default" });
    const events = await run(h, "Hi", [docsServer()]);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(offeredTools(0).some((tool) => tool.name.startsWith("mcp__"))).toBe(false);
    expect(logs.some((line) => line.includes('MCP server "docs" are not offered: outbound_blocked'))).toBe(true);
    expect(mcp!.authorizations).toEqual([]);
  });

  it("keeps two organisations' sessions apart even for the same server URL", async () => {
    const h = await start();
    await run(h, "A", [docsServer()], TENANT_A);
    await run(h, "B", [docsServer()], TENANT_B);
    expect(mcp!.sessionsOpened).toBe(2);
    expect(toolSources!.mcpSessions(TENANT_A)).toBe(1);
    expect(toolSources!.mcpSessions(TENANT_B)).toBe(1);
    // The same organisation's next run reuses its session.
    await run(h, "A again", [docsServer()], TENANT_A);
    expect(mcp!.sessionsOpened).toBe(2);
  });

  it("opens a new session when the revision changes and closes the old one", async () => {
    const h = await start();
    await run(h, "One", [docsServer()]);
    const closed = mcp!.nextSessionClosed();
    await run(h, "Two", [docsServer({ revision: "r2" })]);
    await closed;
    expect(mcp!.sessionsOpened).toBe(2);
    expect(mcp!.sessionsClosed).toBe(1);
    expect(toolSources!.mcpSessions(TENANT_A)).toBe(1);
  });

  it("holds at most WORKFORCE_MCP_MAX_SESSIONS_PER_TENANT sessions: an idle one makes room, busy ones leave a server out", async () => {
    const h = await start({ perTenant: 1 });
    await run(h, "One", [docsServer()]);
    // The first session is idle: it is closed for the second server's.
    const closed = mcp!.nextSessionClosed();
    await run(h, "Two", [docsServer({ serverId: OTHER_SERVER_ID, namespace: "wiki" })]);
    await closed;
    expect(toolSources!.mcpSessions(TENANT_A)).toBe(1);
    // Both servers in one run: one session is all the organisation may hold, so one server is left out.
    const events = await run(h, "Three", [docsServer({ serverId: OTHER_SERVER_ID, namespace: "wiki" }), docsServer()]);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const names = offeredTools(2).map((tool) => tool.name);
    expect(names.filter((name) => name.startsWith("mcp__wiki__")).length).toBeGreaterThan(0);
    expect(names.filter((name) => name.startsWith("mcp__docs__"))).toEqual([]);
    expect(logs.some((line) => line.includes('MCP server "docs" are not offered') && line.includes("WORKFORCE_MCP_MAX_SESSIONS_PER_TENANT"))).toBe(true);
  });

  it("holds at most WORKFORCE_MCP_MAX_SESSIONS across organisations: another organisation's idle session makes room", async () => {
    const h = await start({ total: 1 });
    await run(h, "A", [docsServer()], TENANT_A);
    const closed = mcp!.nextSessionClosed();
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__echo", input: { text: "b" } }, { kind: "text", text: "ok" });
    const events = await run(h, "B", [docsServer()], TENANT_B);
    await closed;
    expect(toolEnd(events)).toMatchObject({ output: "echo: b", isError: false });
    expect(toolSources!.mcpSessions(TENANT_A)).toBe(0);
    expect(toolSources!.mcpSessions(TENANT_B)).toBe(1);
  });

  it("closes a session no run has used for the idle time", async () => {
    const h = await start({ idleMs: 0 });
    const closed = mcp!.nextSessionClosed();
    await run(h, "One", [docsServer()]);
    await closed;
    expect(mcp!.sessionsClosed).toBe(1);
    expect(toolSources!.mcpSessions(TENANT_A)).toBe(0);
  });

  it("closes its sessions when the gateway's tool sources close", async () => {
    const h = await start();
    await run(h, "One", [docsServer()]);
    const closed = mcp!.nextSessionClosed();
    await toolSources!.close();
    await closed;
    expect(toolSources!.mcpSessions()).toBe(0);
  });

  it("works with an older server on the HTTP+SSE transport", async () => {
    const h = await start({ transport: "sse" });
    upstream.enqueue({ kind: "tool_use", name: "mcp__docs__echo", input: { text: "old" } }, { kind: "text", text: "ok" });
    const events = await run(h, "Echo", [docsServer()]);
    expect(toolEnd(events)).toMatchObject({ output: "echo: old", isError: false });
  });
});

describe("POST /v1/integrations/mcp/tools", () => {
  const connection = (overrides: Partial<RunMcpServer> = {}) => {
    const { tools: _tools, ...rest } = docsServer(overrides);
    return rest;
  };

  it("lists the server's name, version and tools", async () => {
    const h = await start();
    const response = await h.request("POST", "/v1/integrations/mcp/tools", { body: connection() });
    expect(response.status).toBe(200);
    const answer = McpToolsAnswer.parse(await response.json());
    expect(answer.server).toEqual({ name: "test-docs", version: "1.2.3" });
    expect(answer.tools.map((tool) => tool.name)).toEqual(["echo", "fail", "slow", "picture", "whoami", "flood", "hidden"]);
    expect(answer.tools[0]).toMatchObject({ description: "Echoes the text back.", inputSchema: { type: "object" } });
    // A probe does not keep a session or count against the organisation's.
    expect(toolSources!.mcpSessions(TENANT_A)).toBe(0);
  });

  it("lists an SSE server's tools", async () => {
    const h = await start({ transport: "sse" });
    const answer = McpToolsAnswer.parse(await (await h.request("POST", "/v1/integrations/mcp/tools", { body: connection() })).json());
    expect(answer.tools.map((tool) => tool.name)).toContain("echo");
  });

  it("answers mcp_auth_required with the resource-metadata URL the server named, never the header", async () => {
    const h = await start();
    const response = await h.request("POST", "/v1/integrations/mcp/tools", { body: connection({ headers: { Authorization: "Bearer s3cret-token-WRONG" } }) });
    expect(response.status).toBe(502);
    const text = await response.text();
    expect(text).not.toContain("s3cret-token");
    const body = McpToolsErrorBody.parse(JSON.parse(text));
    expect(body.error.code).toBe("mcp_auth_required");
    expect(body.error.resourceMetadataUrl).toBe(`${new URL(mcp!.url).origin}/.well-known/oauth-protected-resource/mcp`);
    expectNoSecretInLogs();
  });

  it("answers mcp_unavailable for a server nobody listens on", async () => {
    const h = await start();
    const body = connection();
    await mcp!.close();
    mcp = undefined;
    const response = await h.request("POST", "/v1/integrations/mcp/tools", { body });
    expect(response.status).toBe(502);
    expect(await response.json()).toMatchObject({ error: { code: "mcp_unavailable" } });
  });

  it.each(["streamable-http", "sse"] as const)("answers the SSRF guard's outbound_blocked for a loopback %s server the operator has not allowed", async (transport) => {
    const h = await start({ outbound: "default", transport });
    const response = await h.request("POST", "/v1/integrations/mcp/tools", { body: connection() });
    expect(response.status).toBe(422);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("outbound_blocked");
    expect(body.error.message).toContain("WORKFORCE_OUTBOUND_ALLOW_HOSTS");
    expect(mcp!.sessionsOpened).toBe(0);
  });

  it("is bound to a tenant like every /v1 route", async () => {
    const h = await start();
    const response = await h.request("POST", "/v1/integrations/mcp/tools", { tenant: null, body: connection() });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "tenant_required" } });
    expect(mcp!.sessionsOpened).toBe(0);
  });

  it("refuses a body that is not a server's connection settings", async () => {
    const h = await start();
    const response = await h.request("POST", "/v1/integrations/mcp/tools", { body: { url: "not a url" } });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: "validation_failed" } });
  });
});
