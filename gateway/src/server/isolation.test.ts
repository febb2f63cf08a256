import { symlink, unlink } from "node:fs/promises";
import path from "node:path";
import { getConnInfo } from "@hono/node-server/conninfo";
import { ApiErrorBody, RunInfo } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import type { ModelProvider } from "../llm/model-provider";
import { changedPaths, snapshotTree } from "../test-support/fuzz";
import { connectTestSocket } from "../test-support/ws-test-client";
import { createScriptedProvider, type ScriptedCall } from "../test-support/scripted-provider";
import { readRunEvents, startTestGateway, type TestGateway } from "../test-support/test-gateway";
import { startServer, type RunningServer } from "./start-server";

/**
 * The isolation matrix over the gateway's own interfaces (HTTP, WebSocket, OpenAI-compatible,
 * hooks): tenant A, holding the hook token, tries B's agents, sessions, transcripts and runs by
 * id, by name and by spoofing the tenant, and gets exactly the error a user would see. B has
 * agents and sessions of the same names as A's, so "found by name" would show as a leak.
 */
const TOKEN = "isolation-hook-token";
// Ids with letters, so an upper-cased spelling is a different string.
const TENANT_A = "aaaaaaaa-1111-4aaa-8aaa-aaaaaaaaaaaa";
const TENANT_B = "bbbbbbbb-2222-4bbb-9bbb-bbbbbbbbbbbb";
/** A tenant whose directory is planted as a symlink to B's. */
const TENANT_C = "cccccccc-3333-4ccc-accc-cccccccccccc";
const SECRET_B = "B-ONLY-SECRET-4e1d-lantern";
const SSE = { accept: "text/event-stream" };
let h: TestGateway;
let server: RunningServer;
const b = { run: "", liveRun: "", idempotentRun: "" };
let bBefore: Map<string, string>;
const seenByA: string[] = [];
let releaseGated: (() => void) | undefined;
const gatedStarted = new Promise<void>((resolve) => (releaseGated = resolve));

const script: ScriptedCall[] = [];
const scripted = createScriptedProvider(script);

/** "claude-gated" holds B's live run at the model until it is aborted, so B's files stay still; other models play the script. */
const gated: ModelProvider = {
  name: "gated",
  info: (model) => ({ provider: "anthropic", id: model, offline: false }),
  async *stream(request) {
    if (request.model !== "claude-gated") {
      yield* scripted.stream(request);
      return;
    }
    releaseGated?.();
    await new Promise((resolve) => (request.signal.aborted ? resolve(undefined) : request.signal.addEventListener("abort", resolve, { once: true })));
    yield { type: "finish", stopReason: "end_turn", usage: { inputTokens: 0, outputTokens: 0 } };
  },
};

interface Outcome {
  status: number;
  code: string | undefined;
  text: string;
  headers: Headers;
}
async function call(method: string, path: string, options: { tenant?: string | null; token?: string | null; body?: unknown; headers?: Record<string, string> } = {}): Promise<Outcome> {
  const headers = new Headers(options.headers);
  const tenant = options.tenant === undefined ? TENANT_A : options.tenant;
  if (tenant !== null) headers.append("x-tenant-id", tenant);
  const token = options.token === undefined ? TOKEN : options.token;
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  if (options.body !== undefined) headers.set("content-type", "application/json");
  const response = await fetch(server.url + path, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  if (tenant === TENANT_A || tenant === null) seenByA.push(text);
  const parsed = response.status >= 400 ? ApiErrorBody.safeParse(JSON.parse(text)) : undefined;
  return { status: response.status, code: parsed?.success ? parsed.data.error.code : undefined, text, headers: response.headers };
}

/** A snapshot of `dir` once two taken 50 ms apart agree (no write in flight). */
async function settledSnapshot(dir: string): Promise<Awaited<ReturnType<typeof snapshotTree>>> {
  let previous = await snapshotTree(dir);
  for (let attempt = 0; attempt < 100; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = await snapshotTree(dir);
    if (changedPaths(previous, next).length === 0) return next;
    previous = next;
  }
  throw new Error(`${dir} kept changing for 5 s`);
}

beforeAll(async () => {
  h = await startTestGateway({
    hookToken: TOKEN,
    providers: { anthropic: gated },
    // No background registry compaction mid-test: B's files must stay byte-for-byte still.
    registry: { compactDelayMs: 600_000 },
    authFailureLimits: { maxFailures: 1_000, windowMs: 60_000 },
    clientAddress: (c) => {
      try {
        return getConnInfo(c).remote.address ?? "unknown";
      } catch {
        return "in-process";
      }
    },
  });
  server = await startServer(h.gateway.app, 0, "127.0.0.1", (request, socket, head) => h.gateway.websocket.handleUpgrade(request, socket, head));
  expect((await call("POST", "/v1/agents", { body: { name: "Ada", role: "Alpha Analyst" } })).status).toBe(201);
  expect((await call("POST", "/v1/agents", { tenant: TENANT_B, body: { name: "Ada", role: "Bravo Builder", persona: `Keeps ${SECRET_B}.` } })).status).toBe(201);
  expect((await call("POST", "/v1/agents", { tenant: TENANT_B, body: { name: "Bravo Only", role: "Builder", model: "claude-gated" } })).status).toBe(201);
  for (const [tenant, sessionKey, message] of [
    [TENANT_A, "shared", "hello from A"],
    [TENANT_B, "shared", `hello from B ${SECRET_B}`],
    [TENANT_B, "b-only", `only B knows ${SECRET_B}`],
  ] as const) {
    const response = await fetch(`${server.url}/v1/agents/ada/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "x-tenant-id": tenant, "content-type": "application/json", ...SSE },
      body: JSON.stringify({ message, sessionKey, ...(sessionKey === "b-only" ? { idempotencyKey: "idem-1" } : {}) }),
    });
    expect((await readRunEvents(response)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    if (sessionKey === "b-only") b.idempotentRun = response.headers.get("x-run-id") ?? "";
    if (tenant === TENANT_B && sessionKey === "shared") b.run = response.headers.get("x-run-id") ?? "";
  }
  const live = await call("POST", "/v1/agents/bravo-only/runs", { tenant: TENANT_B, body: { message: "wait here", sessionKey: "live" } });
  b.liveRun = RunInfo.parse(JSON.parse(live.text)).runId;
  await gatedStarted;
  // The model request starts while the user entry is still being written: wait for it to land,
  // then for B's tree to hold still, before taking the picture every later check compares with.
  for (let attempt = 0; !(await call("GET", "/v1/agents/bravo-only/sessions/live", { tenant: TENANT_B })).text.includes("wait here"); attempt += 1) {
    if (attempt > 200) throw new Error("B's live run never recorded its user entry");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  bBefore = await settledSnapshot(`${h.dataDir}/${TENANT_B}`);
});
afterAll(async () => {
  await server?.close();
  await h?.cleanup();
});

/** Every HTTP way at B's things from A, with the code A sees. */
function httpAttempts(): [string, string, unknown, number, string][] {
  return [
    ["GET", "/v1/agents/bravo-only", undefined, 404, "agent_not_found"],
    ["PATCH", "/v1/agents/bravo-only", { name: "Hacked" }, 404, "agent_not_found"],
    ["DELETE", "/v1/agents/bravo-only", undefined, 404, "agent_not_found"],
    ["GET", "/v1/agents/bravo-only/sessions", undefined, 404, "agent_not_found"],
    ["GET", "/v1/agents/bravo-only/sessions/live", undefined, 404, "agent_not_found"],
    ["POST", "/v1/agents/bravo-only/sessions/live/abort", undefined, 404, "agent_not_found"],
    ["POST", "/v1/agents/bravo-only/runs", { message: "hi" }, 404, "agent_not_found"],
    ["POST", "/v1/agents/bravo-only/runs", { message: "hi", heartbeat: true }, 404, "agent_not_found"],
    ["GET", "/v1/agents/bravo-only/heartbeat", undefined, 404, "agent_not_found"],
    ["PUT", "/v1/agents/bravo-only/heartbeat", { content: "- hacked" }, 404, "agent_not_found"],
    ["GET", "/v1/agents/ada/sessions/b-only", undefined, 404, "session_not_found"],
    ["PATCH", "/v1/agents/ada/sessions/b-only", { title: "Hacked" }, 404, "session_not_found"],
    ["POST", "/v1/agents/ada/sessions/b-only/abort", undefined, 404, "session_not_found"],
    ["DELETE", "/v1/agents/ada/sessions/b-only", undefined, 404, "session_not_found"],
    ["GET", `/v1/runs/${b.run}`, undefined, 404, "run_not_found"],
    ["GET", `/v1/runs/${b.run}/events`, undefined, 404, "run_not_found"],
    ["GET", `/v1/runs/${b.run}/events?after=0`, undefined, 404, "run_not_found"],
    ["POST", `/v1/runs/${b.run}/abort`, undefined, 404, "run_not_found"],
    ["GET", `/v1/runs/${b.liveRun}`, undefined, 404, "run_not_found"],
    ["GET", `/v1/runs/${b.liveRun}/events`, undefined, 404, "run_not_found"],
    ["POST", `/v1/runs/${b.liveRun}/abort`, undefined, 404, "run_not_found"],
    ["GET", `/v1/runs/${b.liveRun}?tenant=${TENANT_B}`, undefined, 404, "run_not_found"],
    ["GET", `/v1/runs/${TENANT_B}%2F${b.liveRun}`, undefined, 404, "run_not_found"],
    ["POST", "/v1/chat/completions", { model: "agent:bravo-only", messages: [{ role: "user", content: "hi" }] }, 404, "agent_not_found"],
    ["POST", "/hooks/agent", { agent: "bravo-only", message: "wake up" }, 404, "agent_not_found"],
  ];
}

describe("gateway isolation matrix: tenant A against tenant B", () => {
  it("over HTTP, A gets not-found for B's agents, sessions and runs, and lists only its own", async () => {
    for (const [method, path, body, status, code] of httpAttempts()) {
      const outcome = await call(method, path, { body });
      expect({ method, path, status: outcome.status, code: outcome.code }).toEqual({ method, path, status, code });
    }
    const events = await call("GET", `/v1/runs/${b.run}/events`, { headers: { ...SSE, "last-event-id": "0" } });
    expect([events.status, events.code]).toEqual([404, "run_not_found"]);
    const agents = JSON.parse((await call("GET", "/v1/agents")).text) as { agents: { slug: string; role: string }[] };
    expect(agents.agents.map((agent) => [agent.slug, agent.role])).toEqual([["ada", "Alpha Analyst"]]);
    const sessions = JSON.parse((await call("GET", "/v1/agents/ada/sessions")).text) as { sessions: { key: string }[] };
    expect(sessions.sessions.map((session) => session.key)).toEqual(["shared"]);
    const history = await call("GET", "/v1/agents/ada/sessions/shared");
    expect(history.text).toContain("hello from A");
    expect(history.text).not.toContain("hello from B");
  });

  it("refuses a missing, malformed or doubled tenant, whichever B-looking value it carries", async () => {
    const cases: [Record<string, string> | null, number, string][] = [
      [null, 400, "tenant_required"],
      [{ "x-tenant-id": TENANT_B.toUpperCase() }, 400, "invalid_tenant_id"],
      [{ "x-tenant-id": `${TENANT_A}/../${TENANT_B}` }, 400, "invalid_tenant_id"],
      [{ "x-tenant-id": `../${TENANT_B}` }, 400, "invalid_tenant_id"],
      [{ "x-tenant-id": `${TENANT_B}%00` }, 400, "invalid_tenant_id"],
    ];
    for (const [path] of [["/v1/agents"], [`/v1/runs/${b.run}`], ["/v1/agents/ada/sessions/b-only"]]) {
      for (const [headers, status, code] of cases) {
        const outcome = await call("GET", path!, { tenant: null, headers: headers ?? {} });
        expect({ path, headers, status: outcome.status, code: outcome.code }).toEqual({ path, headers, status, code });
      }
      // Two X-Tenant-ID headers arrive joined ("A, B"): not a tenant id.
      const doubled = await fetch(server.url + path!, { headers: [["authorization", `Bearer ${TOKEN}`], ["x-tenant-id", TENANT_A], ["x-tenant-id", TENANT_B]] });
      expect([doubled.status, ApiErrorBody.parse(await doubled.json()).error.code]).toEqual([400, "invalid_tenant_id"]);
    }
  });

  it("requires the hook token on every route, over HTTP, OpenAI-compatible, hooks and WebSocket", async () => {
    const routes: [string, string, unknown][] = [
      ...httpAttempts().map(([method, path, body]) => [method, path, body] as [string, string, unknown]),
      ["GET", "/v1/agents", undefined],
      ["POST", "/v1/agents", { name: "X", role: "Y" }],
      ["POST", "/v1/chat/completions", { model: "agent:ada", messages: [{ role: "user", content: "hi" }] }],
      ["POST", "/hooks/agent", { agent: "ada", message: "hi" }],
      ["DELETE", "/v1/tenant", undefined],
      ["GET", "/v1/cluster/members", undefined],
    ];
    for (const [method, path, body] of routes) {
      for (const [token, code] of [
        [null, "unauthorized"],
        ["", "unauthorized"],
        [`${TOKEN}x`, "invalid_token"],
        [TOKEN.toUpperCase(), "invalid_token"],
      ] as const) {
        const outcome = await call(method, path, { body, token, tenant: TENANT_B });
        expect({ method, path, token, status: outcome.status, code: outcome.code }).toEqual({ method, path, token, status: 401, code });
      }
      // No interface takes the token from the URL (it would end up in access logs).
      const viaQuery = await call(method, `${path}${path.includes("?") ? "&" : "?"}token=${TOKEN}`, { body, token: null, tenant: TENANT_B });
      expect({ path, status: viaQuery.status, code: viaQuery.code }).toEqual({ path, status: 401, code: "unauthorized" });
    }
    // The health check is the one open route, and it names no tenant.
    const health = await fetch(server.url + "/");
    expect(health.status).toBe(200);
    const text = await health.text();
    expect(text).not.toContain(TENANT_A);
    expect(text).not.toContain(TENANT_B);
    const ws = server.url.replace("http", "ws");
    const refusals: [string, Record<string, string>, string][] = [
      ["", { "x-tenant-id": TENANT_B }, "401"],
      ["?token=nope", { "x-tenant-id": TENANT_B }, "401"],
      [`?token=${TOKEN}`, { "x-tenant-id": TENANT_B }, "401"],
      ["", { authorization: `Bearer ${TOKEN}x`, "x-tenant-id": TENANT_B }, "401"],
      ["", { authorization: `Bearer ${TOKEN}` }, "400"],
      ["", { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_B.toUpperCase() }, "400"],
      [`?tenant=${encodeURIComponent(`../${TENANT_B}`)}`, { authorization: `Bearer ${TOKEN}` }, "400"],
    ];
    for (const [query, headers, status] of refusals) {
      await expect(connect(`${ws}/v1/ws${query}`, headers).opened, `${query} ${JSON.stringify(headers)}`).rejects.toThrow(status);
    }
  });

  it("refuses a tenant whose config.json or limits.json is a link to B's (the per-run reads take the fast check), showing nothing of B", async () => {
    // D is a real tenant directory whose files right in its root are planted links into B's.
    const TENANT_D = "dddddddd-4444-4ddd-8ddd-dddddddddddd";
    const root = `${h.dataDir}/${TENANT_D}`;
    expect((await call("POST", "/v1/agents", { body: { name: "Cleo", role: "Y" }, tenant: TENANT_D })).status).toBe(201);
    for (const name of ["config.json", "limits.json"]) {
      await unlink(`${root}/${name}`).catch(() => undefined);
      await symlink(`${h.dataDir}/${TENANT_B}/config.json`, `${root}/${name}`);
    }
    try {
      for (const [method, path, body] of [
        ["GET", "/v1/agents", undefined],
        ["GET", "/v1/tenant/policy", undefined],
        ["POST", "/v1/agents/ada/runs", { message: "hi", sessionKey: "b-only" }],
      ] as [string, string, unknown][]) {
        const outcome = await call(method, path, { body, tenant: TENANT_D });
        expect({ method, path, status: outcome.status, code: outcome.code }).toEqual({ method, path, status: 400, code: "path_escape" });
        expect(outcome.text).not.toContain(SECRET_B);
        expect(outcome.text).not.toContain("Bravo");
      }
    } finally {
      for (const name of ["config.json", "limits.json"]) await unlink(`${root}/${name}`).catch(() => undefined);
    }
  });

  it("refuses a tenant whose directory is a symlink to B's on every route, reads included, showing nothing of B", async () => {
    const link = `${h.dataDir}/${TENANT_C}`;
    await symlink(`${h.dataDir}/${TENANT_B}`, link);
    try {
      const reads = ["/v1/agents", "/v1/agents/ada", "/v1/agents/ada/sessions", "/v1/agents/ada/sessions/b-only", "/v1/tenant/policy", "/v1/tenant/disk", "/v1/usage/journal"];
      const routes: [string, string, unknown][] = [
        ...reads.map((path) => ["GET", path, undefined] as [string, string, unknown]),
        ["PATCH", "/v1/agents/ada", { name: "Hacked" }],
        ["POST", "/v1/agents", { name: "Planted", role: "Y" }],
        ["POST", "/v1/agents/ada/runs", { message: "hi", sessionKey: "b-only" }],
        ["POST", "/v1/chat/completions", { model: "agent:ada", messages: [{ role: "user", content: "hi" }] }],
        ["POST", "/hooks/agent", { agent: "ada", message: "wake up" }],
        ["DELETE", "/v1/agents/ada", undefined],
        ["DELETE", "/v1/tenant", undefined],
      ];
      for (const [method, path, body] of routes) {
        const outcome = await call(method, path, { body, tenant: TENANT_C });
        expect({ method, path, status: outcome.status, code: outcome.code }).toEqual({ method, path, status: 400, code: "path_escape" });
        expect(outcome.text).not.toContain(SECRET_B);
        expect(outcome.text).not.toContain("Bravo");
      }
      // The platform's poll over all tenants still answers, with nothing pending read through C's link.
      const pending = await call("POST", "/v1/usage/pending", { tenant: null, body: { cursors: [{ tenantId: TENANT_C, after: 0 }] } });
      expect([pending.status, JSON.parse(pending.text)]).toEqual([200, { pending: [] }]);
      const c = connect(`${server.url.replace("http", "ws")}/v1/ws`, { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_C });
      await c.opened;
      c.request("1", "agents.list");
      c.request("2", "sessions.list", { agent: "ada" });
      const frames = await c.until((all) => ["1", "2"].every((id) => all.some((frame) => frame.id === id)));
      for (const id of ["1", "2"]) expect(frames.find((frame) => frame.id === id)).toMatchObject({ ok: false, error: { code: "path_escape" } });
      c.socket.terminate();
    } finally {
      await unlink(link);
    }
  });

  it("over the WebSocket, A's socket is bound to A: B's runs, sessions and agents are not found", async () => {
    const ws = server.url.replace("http", "ws");
    // ?tenant= cannot override the header the socket authenticated with.
    const a = connect(`${ws}/v1/ws?tenant=${TENANT_B}`, { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_A });
    await a.opened;
    const requests: [string, unknown, string | null][] = [
      ["runs.subscribe", { runId: b.run }, "run_not_found"],
      ["runs.subscribe", { runId: b.liveRun, after: 0 }, "run_not_found"],
      ["runs.abort", { runId: b.liveRun }, "run_not_found"],
      ["sessions.history", { agent: "ada", sessionKey: "b-only" }, "session_not_found"],
      ["sessions.abort", { agent: "ada", sessionKey: "b-only" }, "session_not_found"],
      ["sessions.list", { agent: "bravo-only" }, "agent_not_found"],
      ["sessions.history", { agent: "bravo-only", sessionKey: "live" }, "agent_not_found"],
      ["sessions.abort", { agent: "bravo-only", sessionKey: "live" }, "agent_not_found"],
      ["chat.send", { agent: "bravo-only", message: "hi" }, "agent_not_found"],
      ["runs.subscribe", { runId: `${TENANT_B}/${b.liveRun}` }, "run_not_found"],
      ["agents.list", { tenantId: TENANT_B }, null],
      ["sessions.list", { agent: "ada", tenantId: TENANT_B }, null],
    ];
    requests.forEach(([method, params], index) => a.request(String(index), method, params));
    const frames = await a.until((all) => requests.every((_, index) => all.some((frame) => frame.id === String(index))));
    requests.forEach(([method, params, code], index) => {
      const frame = frames.find((candidate) => candidate.id === String(index));
      const expected = code === null ? { ok: true } : { ok: false, error: { code } };
      expect({ method, params, ...frame }).toMatchObject({ method, params, ...expected });
    });
    expect(frames.find((frame) => frame.id === "10")?.payload).toMatchObject({ agents: [{ slug: "ada", role: "Alpha Analyst" }] });
    expect((frames.find((frame) => frame.id === "11")?.payload as { sessions: { key: string }[] }).sessions.map((session) => session.key)).toEqual(["shared"]);
    // A tenantId smuggled into chat.send params is ignored: the run is A's, in A's own "b-only".
    a.request("send", "chat.send", { agent: "ada", message: "which session is this?", sessionKey: "b-only", tenantId: TENANT_B });
    const sent = await a.until((all) => all.some((frame) => frame.event === "run-end"));
    const info = RunInfo.parse(sent.find((frame) => frame.id === "send")?.payload);
    expect(h.gateway.runs.get(TENANT_A, info.runId).tenantId).toBe(TENANT_A);
    expect(() => h.gateway.runs.get(TENANT_B, info.runId)).toThrow();
    const runEvents = sent.filter((frame) => frame.type === "event");
    expect(runEvents.every((frame) => (frame.payload as { runId?: string }).runId === info.runId)).toBe(true);
    seenByA.push(JSON.stringify(a.frames));
    a.socket.terminate();
  });

  it("over the OpenAI-compatible API and hooks, B's session keys and idempotency keys name A's own", async () => {
    const completion = await call("POST", "/v1/chat/completions", {
      body: { model: "agent:ada", messages: [{ role: "user", content: "continue our talk" }] },
      headers: { "x-session-key": "b-only" },
    });
    expect(completion.status).toBe(200);
    expect(completion.headers.get("x-session-key")).toBe("b-only");
    const streamed = await call("POST", "/v1/chat/completions", {
      body: { model: "agent:ada", messages: [{ role: "user", content: "and again" }], stream: true },
      headers: { "x-session-key": "shared" },
    });
    expect(streamed.status).toBe(200);
    const hook = await call("POST", "/hooks/agent", { body: { agent: "ada", message: "hooked", sessionKey: "b-only", idempotencyKey: "idem-1" } });
    expect(hook.status).toBe(202);
    const hooked = RunInfo.parse(JSON.parse(hook.text));
    expect(hooked.runId).not.toBe(b.idempotentRun);
    await h.gateway.runs.get(TENANT_A, hooked.runId).done;
    const idempotent = await call("POST", "/v1/agents/ada/runs", { body: { message: "again", sessionKey: "b-only", idempotencyKey: "idem-1" } });
    expect(RunInfo.parse(JSON.parse(idempotent.text)).runId).toBe(hooked.runId);
    const history = await call("GET", "/v1/agents/ada/sessions/b-only");
    expect(history.text).toContain("continue our talk");
    expect(history.text).not.toContain("only B knows");
  });

  it("through the workspace tools, A's agent cannot reach B's workspace files by path or by planted link", async () => {
    expect((await call("POST", "/v1/agents", { body: { name: "Files", role: "Clerk", model: "claude-scripted" } })).status).toBe(201);
    const bWorkspace = path.join(h.dataDir, TENANT_B, "workspace", "ada");
    await symlink(bWorkspace, path.join(h.dataDir, TENANT_A, "workspace", "files", "link-to-b"));
    const attempts: [string, Record<string, unknown>, string][] = [
      ["read_file", { path: `../../../${TENANT_B}/workspace/ada/SOUL.md` }, "invalid_path"],
      ["read_file", { path: `../ada/SOUL.md` }, "invalid_path"],
      ["read_file", { path: path.join(bWorkspace, "SOUL.md") }, "invalid_path"],
      ["read_file", { path: `%2e%2e/%2e%2e/${TENANT_B}/workspace/ada/SOUL.md` }, "invalid_path"],
      ["read_file", { path: `%252e%252e/${TENANT_B}` }, "invalid_path"],
      ["read_file", { path: `\uff0e\uff0e/\uff0e\uff0e/${TENANT_B}/workspace/ada/SOUL.md` }, "invalid_path"],
      ["read_file", { path: "link-to-b/SOUL.md" }, "path_escape"],
      ["list_files", { path: "link-to-b" }, "path_escape"],
      ["write_file", { path: "link-to-b/planted.md", content: "x" }, "path_escape"],
      ["write_file", { path: `../../../${TENANT_B}/workspace/ada/planted.md`, content: "x" }, "invalid_path"],
      ["search_files", { query: "lantern", path: "link-to-b" }, "path_escape"],
    ];
    const usage = { inputTokens: 1, outputTokens: 1 };
    script.push(
      {
        parts: [
          ...attempts.map(([name, input], index) => ({ type: "tool-call" as const, toolCallId: `f${index}`, name, input })),
          { type: "tool-call", toolCallId: "search-all", name: "search_files", input: { query: "lantern" } },
          { type: "finish", stopReason: "tool_use", usage },
        ],
      },
      { parts: [{ type: "text-delta", text: "done" }, { type: "finish", stopReason: "end_turn", usage }] },
    );
    const response = await fetch(`${server.url}/v1/agents/files/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_A, "content-type": "application/json", ...SSE },
      body: JSON.stringify({ message: "fetch B's files" }),
    });
    const events = await readRunEvents(response);
    seenByA.push(JSON.stringify(events), JSON.stringify(scripted.requests));
    const ends = new Map(events.flatMap((event) => (event.type === "tool-call-end" ? [[event.toolCallId, event] as const] : [])));
    attempts.forEach(([name, input, code], index) => {
      const end = ends.get(`f${index}`);
      expect({ name, input, isError: end?.isError, code: end?.output.split(":")[0] }).toEqual({ name, input, isError: true, code });
    });
    expect(ends.get("search-all")).toMatchObject({ isError: false, output: 'no matches for "lantern"' });
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
  });

  it("leaves B untouched: same files, B's live run still running, and no B secret in anything A saw", async () => {
    expect(h.gateway.runs.get(TENANT_B, b.liveRun).status).toBe("running");
    const erased = await call("DELETE", "/v1/tenant");
    expect(erased.status).toBe(204);
    expect(changedPaths(bBefore, await snapshotTree(`${h.dataDir}/${TENANT_B}`))).toEqual([]);
    expect(h.gateway.runs.get(TENANT_B, b.liveRun).status).toBe("running");
    for (const text of seenByA) expect(text).not.toContain(SECRET_B);
    // B itself can still do all of it.
    expect((await call("GET", "/v1/agents/ada/sessions/b-only", { tenant: TENANT_B })).text).toContain(SECRET_B);
    const aborted = await call("POST", `/v1/runs/${b.liveRun}/abort`, { tenant: TENANT_B });
    expect(aborted.status).toBe(200);
    await h.gateway.runs.get(TENANT_B, b.liveRun).done;
    expect(h.gateway.runs.get(TENANT_B, b.liveRun).status).toBe("aborted");
  });
});

const sockets: WebSocket[] = [];
afterAll(() => {
  for (const socket of sockets) socket.terminate();
});
const connect = (url: string, headers: Record<string, string>) => connectTestSocket(url, headers, sockets);
