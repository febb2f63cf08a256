import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { serve, type ServerType } from "@hono/node-server";
import {
  AgentInput,
  ATTACHMENT_HEADER,
  encodeSseEvent,
  errorBody,
  HeartbeatFileUpdate,
  isHeartbeatFileEmpty,
  slugify,
  WS_PATH,
  type Agent,
  type GatewayHealth,
  type ErrorCode,
  type ModelInfo,
  type RunInfo,
  type RunEvent,
  type SessionHistory,
  type SessionSummary,
  UsagePendingRequest,
  UsageRecord,
  type RunActor,
  type UsageJournalEntry,
  type TenantDiskUsage,
  TenantPolicy,
} from "@workforce/protocol";
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { WebSocketServer } from "ws";

export interface FakeGatewayOptions {
  hookToken?: string;
  dataDir?: { path: string; instanceId: string };
  /** Text the fake model replies with, one delta per word. */
  reply?: string;
  /** Pause between streamed events. */
  eventDelayMs?: number;
  /** Runs emit nothing until this settles: streams that stay open for as long as a test needs. */
  hold?: Promise<void>;
  /** Serve `DELETE /v1/tenant` (the real gateway does not have it yet). */
  tenantDeletion?: boolean;
  /** What `GET /v1/tenant/disk` answers for every tenant (absent: the route is not served). */
  disk?: TenantDiskUsage;
  /** Listen on this port (to come up where a platform already expects a gateway that was down); default any free one. */
  port?: number;
  /** Refuse shared WebSocket connections as a gateway from before decision 049 does (no X-Tenant-ID: 400 tenant_required). */
  tenantBoundSocketsOnly?: boolean;
}

export interface FakeGateway {
  url: string;
  /** Requests seen, for asserting headers. */
  requests: { method: string; path: string; tenantId: string | undefined; authorization: string | undefined }[];
  runs: Map<string, FakeRun>;
  /** Creates a session the way the gateway's hooks would (no platform involved): an unowned one. */
  createSession(tenantId: string, agent: string, key: string): void;
  /** Appends raw text to the tenant's usage journal (records, or a torn line), as gateways do on disk (ending a torn line first). */
  appendJournal(tenantId: string, text: string): void;
  /** Policies the platform pushed (`PUT /v1/tenant/policy`), by tenant; the newest version wins, as on the real gateway. */
  policies: Map<string, TenantPolicy>;
  /**
   * Journals a run of the session that paused at a tool call in `ask` mode (issue 15), as the
   * gateway does; the session then waits for the decision. A message containing `[[ask:<tool>]]`
   * pauses its own run the same way, with the `approval-required` event in its stream.
   */
  pauseRun(tenantId: string, agent: string, sessionKey: string, call: { tool: string; input: unknown; approvalId?: string; requestedAt?: Date }): { runId: string; approvalId: string };
  /** Decisions the platform delivered (`POST …/approvals/:id`), in order; a repeated one is listed once. */
  decisions: { tenantId: string; agent: string; sessionKey: string; approvalId: string; body: Record<string, unknown>; actor: RunActor; runId: string }[];
  close(): Promise<void>;
}

const MODEL: ModelInfo = { provider: "offline", id: "offline", offline: true };

interface FakeRun {
  tenantId: string;
  agent: string;
  sessionKey: string;
  events: RunEvent[];
  done: boolean;
  aborted?: boolean;
  /** What the platform granted the run (chat.send's `integrations`), as the gateway received it. */
  integrations?: unknown;
}

/**
 * A small stand-in for the gateway speaking its real wire protocol (docs/gateway-api.md) on a
 * real port: health, agents CRUD, runs as SSE with replay. Enough for the platform's tests.
 */
export async function startFakeGateway(options: FakeGatewayOptions = {}): Promise<FakeGateway> {
  const agents = new Map<string, Map<string, Agent>>();
  /** Sessions by `tenant/agent`, then by key. */
  const sessions = new Map<string, Map<string, SessionSummary>>();
  const runs: FakeGateway["runs"] = new Map();
  const idempotent = new Map<string, string>();
  const requests: FakeGateway["requests"] = [];
  const reply = options.reply ?? "Hello from the fake gateway";
  const delay = () => new Promise((resolve) => setTimeout(resolve, options.eventDelayMs ?? 0));
  let runCounter = 0;
  const app = new Hono();

  app.use("*", async (c, next) => {
    requests.push({ method: c.req.method, path: c.req.path, tenantId: c.req.header("x-tenant-id"), authorization: c.req.header("authorization") });
    // As the real gateway: GET / is open, but a wrong token presented there is refused too.
    const presented = c.req.header("authorization");
    if (options.hookToken && presented !== `Bearer ${options.hookToken}` && (c.req.path !== "/" || presented !== undefined)) {
      return c.json(errorBody("unauthorized", "bad hook token"), 401);
    }
    await next();
  });

  app.get("/", (c) => {
    const health: GatewayHealth = {
      status: "ok",
      service: "gateway",
      version: "0.0.0-fake",
      uptimeSeconds: 1,
      dataDir: options.dataDir ?? { path: "/tmp/fake", instanceId: "fake-instance" },
      model: MODEL,
    };
    return c.json(health);
  });

  const tenantAgents = (tenantId: string | undefined) => {
    const key = tenantId ?? "";
    if (!agents.has(key)) agents.set(key, new Map());
    return agents.get(key)!;
  };

  // As a gateway without a provider: the offline model alone.
  app.get("/v1/models", (c) => c.json({ default: "offline", offline: true, models: [{ id: "offline", provider: "offline", label: "Offline model" }], unverified: [] }));
  app.get("/v1/agents", (c) => c.json({ agents: [...tenantAgents(c.req.header("x-tenant-id")).values()] }));
  app.post("/v1/agents", async (c) => {
    const input = AgentInput.parse(await c.req.json());
    const list = tenantAgents(c.req.header("x-tenant-id"));
    // As the real gateway: an explicit slug that is taken is refused; a derived one gets a suffix.
    if (input.slug && list.has(input.slug)) return c.json(errorBody("agent_exists", `agent ${input.slug} exists`), 409);
    const base = slugify(input.name);
    let slug = input.slug ?? base;
    for (let suffix = 2; list.has(slug); suffix += 1) slug = `${base}-${suffix}`;
    const now = new Date().toISOString();
    const agent: Agent = { ...input, slug, model: input.model ?? null, createdAt: now, updatedAt: now };
    list.set(slug, agent);
    return c.json({ agent }, 201);
  });
  app.get("/v1/agents/:slug", (c) => {
    const agent = tenantAgents(c.req.header("x-tenant-id")).get(c.req.param("slug"));
    return agent ? c.json({ agent }) : c.json(errorBody("agent_not_found", "no such agent"), 404);
  });
  app.delete("/v1/agents/:slug", (c) => {
    const deleted = tenantAgents(c.req.header("x-tenant-id")).delete(c.req.param("slug"));
    sessions.delete(`${c.req.header("x-tenant-id") ?? ""}/${c.req.param("slug")}`);
    return deleted ? c.body(null, 204) : c.json(errorBody("agent_not_found", "no such agent"), 404);
  });
  const agentSessions = (tenantId: string | undefined, slug: string) => {
    const key = `${tenantId ?? ""}/${slug}`;
    if (!sessions.has(key)) sessions.set(key, new Map());
    return sessions.get(key)!;
  };
  const openSession = (tenantId: string, slug: string, key: string, title = "Who are you?") => {
    const list = agentSessions(tenantId, slug);
    const existing = list.get(key);
    if (existing) return existing;
    const session: SessionSummary = {
      key,
      sessionId: `sid-${key}`,
      title,
      createdAt: "2025-01-01T00:00:00.000Z",
      updatedAt: "2025-01-01T00:00:01.000Z",
      model: "offline",
      inputTokens: 3,
      outputTokens: 5,
      messageCount: 2,
      lastMessagePreview: reply.slice(0, 40),
    };
    list.set(key, session);
    return session;
  };

  app.get("/v1/agents/:slug/sessions", (c) => {
    const tenantId = c.req.header("x-tenant-id");
    const agent = tenantAgents(tenantId).get(c.req.param("slug"));
    if (!agent) return c.json(errorBody("agent_not_found", "no such agent"), 404);
    return c.json({ sessions: [...agentSessions(tenantId, agent.slug).values()].reverse() });
  });
  const { disk } = options;
  if (disk) app.get("/v1/tenant/disk", (c) => c.json(disk));
  const policies = new Map<string, TenantPolicy>();
  const DEFAULT_LIMITS = { maxConcurrentRuns: 4, maxQueuedRuns: 200, monthlyTokens: null, diskBytes: 2_048 * 1024 * 1024 };
  app.get("/v1/tenant/policy", (c) => {
    const policy = policies.get(c.req.header("x-tenant-id") ?? "");
    return c.json(policy ? { ...policy, source: "pushed" } : { version: 0, suspended: false, suspendedReason: null, limits: DEFAULT_LIMITS, source: "default" });
  });
  app.put("/v1/tenant/policy", async (c) => {
    const parsed = TenantPolicy.safeParse(await c.req.json());
    if (!parsed.success) return c.json(errorBody("validation_failed", parsed.error.message), 400);
    const tenantId = c.req.header("x-tenant-id") ?? "";
    const stored = policies.get(tenantId);
    if (!stored || stored.version <= parsed.data.version) policies.set(tenantId, parsed.data);
    return c.json({ ...policies.get(tenantId), source: "pushed" });
  });

  if (options.tenantDeletion) {
    app.delete("/v1/tenant", (c) => {
      const tenantId = c.req.header("x-tenant-id") ?? "";
      agents.delete(tenantId);
      for (const key of sessions.keys()) if (key.startsWith(`${tenantId}/`)) sessions.delete(key);
      for (const [runId, run] of runs) if (run.tenantId === tenantId) runs.delete(runId);
      return c.body(null, 204);
    });
  }

  const history = (slug: string, session: SessionSummary): SessionHistory => ({
    session,
    entries: [
      { type: "user", id: "e1", parentId: null, timestamp: "2025-01-01T00:00:00.000Z", content: [{ type: "text", text: "Who are you?" }] },
      {
        type: "assistant",
        id: "e2",
        parentId: "e1",
        timestamp: "2025-01-01T00:00:01.000Z",
        content: [{ type: "text", text: reply }, { type: "tool-call", toolCallId: "t1", name: "read_file", input: { path: "IDENTITY.md" } }],
        model: MODEL,
        usage: { inputTokens: 3, outputTokens: 5 },
        stopReason: "end_turn",
      },
      { type: "tool-result", id: "e3", parentId: "e2", timestamp: "2025-01-01T00:00:02.000Z", toolCallId: "t1", name: "read_file", output: `I am ${slug}`, isError: false },
    ],
  });
  const findSession = (c: Context) => {
    const tenantId = c.req.header("x-tenant-id");
    const agent = tenantAgents(tenantId).get(c.req.param("slug") ?? "");
    const session = agent ? agentSessions(tenantId, agent.slug).get(c.req.param("key") ?? "") : undefined;
    return agent && session ? { agent, session, tenantId } : undefined;
  };
  app.get("/v1/agents/:slug/sessions/:key", (c) => {
    const found = findSession(c);
    if (!found) return c.json(errorBody("session_not_found", "no such session"), 404);
    return c.json(history(found.agent.slug, found.session));
  });
  // Every session holds one text file, `notes` (decision 042): enough for the platform's access checks.
  app.get("/v1/agents/:slug/sessions/:key/attachments/:id", (c) => {
    const found = findSession(c);
    if (!found) return c.json(errorBody("session_not_found", "no such session"), 404);
    if (c.req.param("id") !== "notes") return c.json(errorBody("not_found", "no such attachment in this session"), 404);
    const attachment = { id: "notes", name: "notes.txt", mediaType: "text/plain", size: 5 };
    return c.body("notes", 200, { "content-type": "text/plain; charset=utf-8", [ATTACHMENT_HEADER]: encodeURIComponent(JSON.stringify(attachment)) });
  });
  app.patch("/v1/agents/:slug/sessions/:key", async (c) => {
    const found = findSession(c);
    if (!found) return c.json(errorBody("session_not_found", "no such session"), 404);
    const { title } = await c.req.json<{ title: string }>();
    found.session.title = title;
    found.session.titleSource = "user";
    return c.json({ session: found.session });
  });
  // The title step (decision 043) as the offline gateway does it: the first message names the chat, unless the user did.
  app.post("/v1/agents/:slug/sessions/:key/title", (c) => {
    const found = findSession(c);
    if (!found) return c.json(errorBody("session_not_found", "no such session"), 404);
    if (found.session.titleSource === "user" || found.session.titleSource === "generated") return c.json({ session: found.session, outcome: "kept" });
    found.session.titleSource = "generated";
    return c.json({ session: found.session, outcome: "fallback" });
  });
  app.delete("/v1/agents/:slug/sessions/:key", (c) => {
    const found = findSession(c);
    if (!found) return c.json(errorBody("session_not_found", "no such session"), 404);
    agentSessions(found.tenantId, found.agent.slug).delete(found.session.key);
    return c.body(null, 204);
  });
  app.patch("/v1/agents/:slug", async (c) => {
    const list = tenantAgents(c.req.header("x-tenant-id"));
    const agent = list.get(c.req.param("slug"));
    if (!agent) return c.json(errorBody("agent_not_found", "no such agent"), 404);
    const updated: Agent = { ...agent, ...(await c.req.json<Partial<Agent>>()), updatedAt: new Date().toISOString() };
    list.set(agent.slug, updated);
    return c.json({ agent: updated });
  });

  /**
   * Starts a run of the fake model in the given session (a new one when absent or unknown, like
   * the gateway); a repeated idempotency key returns the earlier run. Undefined when the agent does not exist.
   */
  function startRun(
    tenantId: string,
    slug: string,
    input: { sessionKey?: string; idempotencyKey?: string; actor?: RunActor; integrations?: unknown; message?: string; resumes?: UsageRecord["resumes"] } = {},
  ): string | undefined {
    if (!tenantAgents(tenantId).has(slug)) return undefined;
    const idempotency = input.idempotencyKey ? `${tenantId}/${slug}/${input.idempotencyKey}` : undefined;
    const earlier = idempotency ? idempotent.get(idempotency) : undefined;
    if (earlier) return earlier;
    const runId = `run-${++runCounter}`;
    const sessionKey = openSession(tenantId, slug, input.sessionKey ?? randomUUID()).key;
    if (idempotency) idempotent.set(idempotency, runId);
    const at = new Date().toISOString();
    const words = reply.split(/(?= )/);
    const asked = /\[\[ask:([\w.-]+)\]\]/.exec(input.message ?? "")?.[1];
    const approval = asked ? { id: `approval-${runId}`, toolCallId: `call-${runId}`, tool: asked, input: { path: "notes.md" }, requestedAt: at } : undefined;
    const events: RunEvent[] = approval
      ? [
          { runId, seq: 1, type: "run-start", agent: slug, sessionKey, sessionId: `sid-${sessionKey}`, model: MODEL, at },
          { runId, seq: 2, type: "tool-call-start", toolCallId: approval.toolCallId, name: approval.tool, input: approval.input },
          { runId, seq: 3, type: "approval-required", approvalId: approval.id, toolCallId: approval.toolCallId, name: approval.tool, input: approval.input, at },
          { runId, seq: 4, type: "run-end", status: "paused", usage: { inputTokens: 3, outputTokens: 1 }, at },
        ]
      : [
          { runId, seq: 1, type: "run-start", agent: slug, sessionKey, sessionId: `sid-${sessionKey}`, model: MODEL, at },
          ...words.map((delta, index): RunEvent => ({ runId, seq: index + 2, type: "text-delta", delta })),
          { runId, seq: words.length + 2, type: "usage", usage: { inputTokens: 3, outputTokens: words.length } },
          { runId, seq: words.length + 3, type: "run-end", status: "ok", usage: { inputTokens: 3, outputTokens: words.length }, at },
        ];
    const run: FakeRun = { tenantId, agent: slug, sessionKey, events: [], done: false, ...(input.integrations === undefined ? {} : { integrations: input.integrations }) };
    runs.set(runId, run);
    // The run proceeds whether or not anyone is listening, like the real gateway.
    void (async () => {
      await options.hold;
      for (const event of events) {
        await delay();
        run.events.push(event);
      }
      run.done = true;
      // Journaled like the real gateway's runs, on whose behalf the platform said.
      const record: UsageRecord = {
        runId,
        agent: slug,
        sessionKey,
        source: input.actor ? "ws" : "http",
        ...input.actor,
        model: MODEL.id,
        status: approval ? "paused" : "ok",
        inputTokens: 3,
        outputTokens: approval ? 1 : words.length,
        queuedAt: at,
        endedAt: new Date().toISOString(),
        ...(approval ? { approval } : {}),
        ...(input.resumes ? { resumes: input.resumes } : {}),
      };
      appendJournal(tenantId, `${JSON.stringify(record)}\n`);
    })();
    return runId;
  }

  // Tool approvals (issue 15): paused sessions, and the decisions that resume them.
  const pausedApprovals = new Map<string, { tenantId: string; agent: string; sessionKey: string }>();
  const decisions: FakeGateway["decisions"] = [];
  const pauseRun: FakeGateway["pauseRun"] = (tenantId, agent, sessionKey, call) => {
    openSession(tenantId, agent, sessionKey);
    const runId = `run-${++runCounter}`;
    const approvalId = call.approvalId ?? `approval-${runId}`;
    const at = (call.requestedAt ?? new Date()).toISOString();
    pausedApprovals.set(approvalId, { tenantId, agent, sessionKey });
    const record: UsageRecord = {
      runId,
      agent,
      sessionKey,
      source: "ws",
      model: MODEL.id,
      status: "paused",
      inputTokens: 3,
      outputTokens: 1,
      queuedAt: at,
      endedAt: at,
      approval: { id: approvalId, toolCallId: `call-${runId}`, tool: call.tool, input: call.input, requestedAt: at },
    };
    appendJournal(tenantId, `${JSON.stringify(record)}\n`);
    return { runId, approvalId };
  };
  app.post("/v1/agents/:slug/sessions/:key/approvals/:approvalId", async (c) => {
    const tenantId = c.req.header("x-tenant-id") ?? "";
    const { slug, key, approvalId } = c.req.param();
    const paused = pausedApprovals.get(approvalId);
    if (!paused || paused.tenantId !== tenantId || paused.agent !== slug || paused.sessionKey !== key) return c.json(errorBody("approval_not_found", `no approval ${approvalId}`), 404);
    const body = await c.req.json<Record<string, unknown>>();
    const actor: RunActor = { ...(c.req.header("x-workforce-user-id") ? { userId: c.req.header("x-workforce-user-id") } : {}), ...(c.req.header("x-workforce-api-key-id") ? { apiKeyId: c.req.header("x-workforce-api-key-id") } : {}) };
    const decision = body.decision === "approve" ? "approve" : "deny";
    const runId = startRun(tenantId, slug, {
      sessionKey: key,
      idempotencyKey: `approval:${approvalId}`,
      actor,
      integrations: body.integrations,
      resumes: { approvalId, decision, ...(body.timedOut === true ? { timedOut: true } : {}) },
    })!;
    if (!decisions.some((each) => each.approvalId === approvalId)) decisions.push({ tenantId, agent: slug, sessionKey: key, approvalId, body, actor, runId });
    c.header("x-run-id", runId);
    return c.json(infoOf(runId, runs.get(runId)!), 202);
  });

  // The usage journal (`/v1/usage`): each tenant's lines in memory, read by byte offset as on disk.
  const journals = new Map<string, string>();
  const appendJournal = (tenantId: string, text: string) => {
    const before = journals.get(tenantId) ?? "";
    // As the gateway does after a crash: a torn last line is ended before new lines go after it.
    journals.set(tenantId, before + (before === "" || before.endsWith("\n") ? "" : "\n") + text);
  };
  app.get("/v1/usage/journal", (c) => {
    const bytes = Buffer.from(journals.get(c.req.header("x-tenant-id") ?? "") ?? "", "utf8");
    const asked = Number(c.req.query("after") ?? "0");
    const start = asked > bytes.length ? 0 : asked;
    const entries: UsageJournalEntry[] = [];
    let position = start;
    for (let newline = bytes.indexOf(0x0a, position); newline >= 0; newline = bytes.indexOf(0x0a, position)) {
      let value: unknown;
      try {
        value = JSON.parse(bytes.subarray(position, newline).toString("utf8"));
      } catch {
        value = undefined;
      }
      const parsed = UsageRecord.safeParse(value);
      if (parsed.success) entries.push({ offset: position, next: newline + 1, record: parsed.data });
      position = newline + 1;
    }
    return c.json({ entries, next: position, size: bytes.length });
  });
  app.post("/v1/usage/pending", async (c) => {
    const { cursors } = UsagePendingRequest.parse(await c.req.json());
    const pending = cursors.flatMap(({ tenantId, after }) => {
      const size = Buffer.byteLength(journals.get(tenantId) ?? "", "utf8");
      return size === after ? [] : [{ tenantId, size }];
    });
    return c.json({ pending });
  });

  app.post("/v1/agents/:slug/runs", async (c) => {
    const slug = c.req.param("slug");
    const body = await c.req.json<{ sessionKey?: string; idempotencyKey?: string; message?: string }>().catch(() => ({}));
    const runId = startRun(c.req.header("x-tenant-id") ?? "", slug, body);
    if (!runId) return c.json(errorBody("agent_not_found", `no agent ${slug}`), 404);
    c.header("x-run-id", runId);
    // As the real gateway: the run's events for a stream reader, its RunInfo for anyone else (platform-fired runs).
    if (!(c.req.header("accept") ?? "").includes("text/event-stream")) return c.json(infoOf(runId, runs.get(runId)!), 202);
    return streamRun(c, runs.get(runId)!, 0);
  });

  /** HEARTBEAT.md per tenant/agent, as the gateway keeps it in the agent's workspace. */
  const heartbeatFiles = new Map<string, string>();
  const heartbeatFile = (content: string | undefined) => ({ content: content ?? "", exists: content !== undefined, empty: isHeartbeatFileEmpty(content ?? "") });
  app.get("/v1/agents/:slug/heartbeat", (c) => {
    const tenantId = c.req.header("x-tenant-id") ?? "";
    if (!tenantAgents(tenantId).has(c.req.param("slug"))) return c.json(errorBody("agent_not_found", "no such agent"), 404);
    return c.json(heartbeatFile(heartbeatFiles.get(`${tenantId}/${c.req.param("slug")}`)));
  });
  app.put("/v1/agents/:slug/heartbeat", async (c) => {
    const tenantId = c.req.header("x-tenant-id") ?? "";
    if (!tenantAgents(tenantId).has(c.req.param("slug"))) return c.json(errorBody("agent_not_found", "no such agent"), 404);
    const { content } = HeartbeatFileUpdate.parse(await c.req.json());
    heartbeatFiles.set(`${tenantId}/${c.req.param("slug")}`, content);
    return c.json(heartbeatFile(content));
  });

  const infoOf = (runId: string, run: FakeRun): RunInfo => ({
    runId,
    agent: run.agent,
    sessionKey: run.sessionKey,
    sessionId: `sid-${run.sessionKey}`,
    status: run.aborted ? "aborted" : run.done ? "ok" : "running",
    lastSeq: run.events.length,
  });

  app.get("/v1/runs/:runId", (c) => {
    const runId = c.req.param("runId");
    const run = runs.get(runId);
    if (!run || run.tenantId !== c.req.header("x-tenant-id")) return c.json(errorBody("run_not_found", "no such run"), 404);
    return c.json(infoOf(runId, run));
  });

  app.post("/v1/runs/:runId/abort", (c) => {
    const runId = c.req.param("runId");
    const run = runs.get(runId);
    if (!run || run.tenantId !== c.req.header("x-tenant-id")) return c.json(errorBody("run_not_found", "no such run"), 404);
    if (!run.done) run.aborted = true;
    return c.json(infoOf(runId, run));
  });

  app.get("/v1/runs/:runId/events", (c) => {
    const run = runs.get(c.req.param("runId"));
    if (!run || run.tenantId !== c.req.header("x-tenant-id")) return c.json(errorBody("run_not_found", "no such run"), 404);
    const after = Number(c.req.header("last-event-id") ?? c.req.query("after") ?? "0");
    return streamRun(c, run, after);
  });

  function streamRun(c: Context, run: FakeRun, after: number) {
    c.header("content-type", "text/event-stream");
    return streamSSE(c, async (stream) => {
      let next = run.events.findIndex((event) => event.seq > after);
      if (next === -1) next = run.events.length;
      for (;;) {
        while (next < run.events.length) {
          await stream.write(encodeSseEvent(run.events[next]!));
          next += 1;
        }
        if (run.done || stream.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    });
  }

  const server: ServerType = await new Promise((resolve) => {
    const started = serve({ fetch: app.fetch, port: options.port ?? 0, hostname: "127.0.0.1" }, () => resolve(started));
  });

  // The WebSocket protocol (`/v1/ws`): chat.send and runs.subscribe stream events as frames.
  // A shared connection (decision 049) names the tenant in each request frame, and gets it back on each event.
  const sockets = new WebSocketServer({ noServer: true });
  server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const boundTenant = String(request.headers["x-tenant-id"] ?? "");
    requests.push({ method: "GET", path: WS_PATH, tenantId: boundTenant, authorization: request.headers.authorization });
    if (options.hookToken && request.headers.authorization !== `Bearer ${options.hookToken}`) {
      socket.end("HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n" + JSON.stringify(errorBody("unauthorized", "bad hook token")));
      return;
    }
    if (options.tenantBoundSocketsOnly && !boundTenant) {
      socket.end("HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n" + JSON.stringify(errorBody("tenant_required", "X-Tenant-ID is required")));
      return;
    }
    sockets.handleUpgrade(request, socket, head, (ws) => {
      const stop = new AbortController();
      let seq = 0;
      const send = (frame: unknown) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame));
      };
      const forward = (run: FakeRun, after: number, tenant: string | undefined) =>
        void (async () => {
          let next = run.events.findIndex((event) => event.seq > after);
          if (next === -1) next = run.events.length;
          for (;;) {
            while (next < run.events.length) {
              const event = run.events[next]!;
              send({ type: "event", event: event.type, payload: event, seq: ++seq, ...(tenant === undefined ? {} : { tenant }) });
              next += 1;
            }
            if (run.done || stop.signal.aborted) return;
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })();
      ws.on("close", () => stop.abort());
      ws.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString("utf8")) as {
          id: string;
          method: string;
          tenant?: string;
          params: { agent?: string; runId?: string; after?: number; sessionKey?: string; idempotencyKey?: string; actor?: RunActor; integrations?: unknown; message?: string };
        };
        const fail = (code: ErrorCode, message: string) => send({ type: "res", id: frame.id, ok: false, error: { code, message } });
        const tenantId = frame.tenant ?? boundTenant;
        if (frame.method === "chat.send") {
          const runId = startRun(tenantId, frame.params.agent ?? "", frame.params);
          if (!runId) return fail("agent_not_found", `no agent ${frame.params.agent}`);
          const run = runs.get(runId)!;
          send({ type: "res", id: frame.id, ok: true, payload: infoOf(runId, run) });
          forward(run, 0, frame.tenant);
          return;
        }
        if (frame.method === "runs.subscribe") {
          const runId = frame.params.runId ?? "";
          const run = runs.get(runId);
          if (!run || run.tenantId !== tenantId) return fail("run_not_found", "no such run");
          send({ type: "res", id: frame.id, ok: true, payload: infoOf(runId, run) });
          forward(run, frame.params.after ?? 0, frame.tenant);
          return;
        }
        fail("not_found", `unknown method ${frame.method}`);
      });
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    runs,
    policies,
    createSession: (tenantId, agent, key) => void openSession(tenantId, agent, key, "Started by a hook"),
    appendJournal,
    pauseRun,
    decisions,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of sockets.clients) client.terminate();
        sockets.close();
        if ("closeAllConnections" in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
