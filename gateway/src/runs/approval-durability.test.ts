/**
 * Paused runs (issue 15) across processes: the pause lives only in the transcript, so a restarted
 * gateway, a second gateway on the same data dir, or a cluster member (Redis relay, idempotency
 * keys, forwarding to the lease holder) resumes it; WebSocket clients pause and decide too.
 */
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { RunInfo, type RunEvent } from "@workforce/protocol";
import { runJournalPath, runJournalsDirPath } from "@workforce/protocol/tenant-path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { createRedisIdempotencyKeys } from "../coordination/adapters/redis-idempotency";
import { createRedisLeases } from "../coordination/adapters/redis-leases";
import { newMemberId } from "../coordination/member-id";
import { lockHostId } from "../fs/file-lock";
import type { ModelProvider } from "../llm/model-provider";
import { createProviders } from "../llm/create-providers";
import { createConsoleLogger } from "../logger";
import { startServer } from "../server/start-server";
import { approvalOf, approvalsGateway, ASK_BEFORE_WRITING, decide, historyOf, sent, transcriptLines, workspaceFile } from "../test-support/approvals";
import { deleteRedisKeys, REDIS_URL, redisForTests } from "../test-support/redis";
import { readRunEvents, replyText, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { connectTestSocket } from "../test-support/ws-test-client";
import { createRedisRunRelay } from "./adapters/redis/redis-run-relay";

const reachable = await redisForTests("approval cluster tests");
const prefixes: string[] = [];
let upstream: FakeUpstream;
const cleanups: (() => Promise<void>)[] = [];
const sockets: WebSocket[] = [];
beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
});
afterAll(async () => {
  await upstream.close();
  if (reachable) for (const prefix of prefixes) await deleteRedisKeys(prefix);
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  upstream.reset();
});

const WRITE_PLAN = { kind: "tool_use" as const, name: "write_file", id: "toolu_plan", input: { path: "plan.md", content: "Ship it" } };

async function gateway(options: Parameters<typeof approvalsGateway>[1] = {}): Promise<TestGateway> {
  const harness = await approvalsGateway(upstream, options);
  cleanups.push(() => harness.cleanup());
  if (!options.dataDir) expect((await harness.createAgent(TENANT_A)).status).toBe(201);
  return harness;
}

describe("a paused run outlives its gateway", () => {
  it("is resumed by a restarted gateway on the same data dir", async () => {
    const first = await gateway();
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Written after the restart." });
    const approval = approvalOf(await sent(first, "Write the plan down"));
    await first.gateway.close();

    const restarted = await gateway({ dataDir: first.dataDir });
    expect((await historyOf(restarted)).pendingApproval).toMatchObject({ approvalId: approval.approvalId, name: "write_file" });
    const events = await readRunEvents(await decide(restarted, approval.approvalId, { decision: "approve" }));
    expect(replyText(events)).toBe("Written after the restart.");
    expect(await readFile(workspaceFile(restarted, "plan.md"), "utf8")).toBe("Ship it");
    // Stopped on purpose, not cut off: no interrupted marker was added at the restart.
    expect((await historyOf(restarted)).entries.map((entry) => entry.type)).toEqual(["user", "assistant", "tool-result", "assistant"]);
  });

  it("stays paused when its process died before journaling the run's end: never marked interrupted", async () => {
    const first = await gateway();
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Written after the crash." });
    const events = await sent(first, "Write the plan down");
    const approval = approvalOf(events);
    const { session } = await historyOf(first);
    await first.gateway.close();
    // As if the process had died between writing the pause and journaling the run's end.
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    const token = "cd".repeat(8);
    const header = { type: "process", host: lockHostId(), pid: gone, token, startedAt: new Date().toISOString() };
    const submitted = { type: "submit", runId: approval.runId, tenantId: TENANT_A, agent: "ada", sessionKey: "s", sessionId: session.sessionId, model: { provider: "anthropic", id: "claude-fake-1", offline: false }, at: new Date().toISOString() };
    await mkdir(runJournalsDirPath(first.dataDir), { recursive: true });
    await writeFile(runJournalPath(first.dataDir, `${token}.jsonl`), `${JSON.stringify(header)}\n${JSON.stringify(submitted)}\n`);

    const restarted = await gateway({ dataDir: first.dataDir });
    await restarted.gateway.recovered();
    const history = await historyOf(restarted);
    expect(history.pendingApproval?.approvalId).toBe(approval.approvalId);
    expect(history.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
    expect(replyText(await readRunEvents(await decide(restarted, approval.approvalId, { decision: "approve" })))).toBe("Written after the crash.");
  });

  it("is resumed by a second gateway on the same data dir while the first still serves", async () => {
    const first = await gateway();
    const second = await gateway({ dataDir: first.dataDir });
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Written by the second." });
    const approval = approvalOf(await sent(first, "Write the plan down"));
    expect((await historyOf(second)).session.pendingApproval?.approvalId).toBe(approval.approvalId);

    const events = await readRunEvents(await decide(second, approval.approvalId, { decision: "approve" }));
    expect(replyText(events)).toBe("Written by the second.");
    expect((await historyOf(first)).pendingApproval).toBeUndefined();
    upstream.enqueue({ kind: "text", text: "Back on the first." });
    expect(replyText(await sent(first, "And now?"))).toBe("Back on the first.");
  });

  it("ends a message queued behind a run that then paused with approval_pending, before writing it", async () => {
    // The first model call waits for the test, so the second message is queued behind a running run.
    const providers = createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: undefined });
    let open: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => (entered = resolve));
    const inner = providers.anthropic!;
    let calls = 0;
    const gated: ModelProvider = {
      name: inner.name,
      info: (model) => inner.info(model),
      async *stream(request) {
        calls += 1;
        if (calls === 1) {
          entered();
          await gate;
        }
        yield* inner.stream(request);
      },
    };
    const h = await gateway({ providers: { anthropic: gated } });
    upstream.enqueue(WRITE_PLAN);
    const body = (message: string) => ({ message, sessionKey: "s", integrations: ASK_BEFORE_WRITING });
    const pausing = RunInfo.parse(await (await h.request("POST", "/v1/agents/ada/runs", { body: body("Write the plan down") })).json());
    await reached;
    const queued = RunInfo.parse(await (await h.request("POST", "/v1/agents/ada/runs", { body: body("Are you there?") })).json());
    expect(queued.status).toBe("queued");
    open();

    const endOf = async (runId: string) => (await readRunEvents(await h.request("GET", `/v1/runs/${runId}/events`))).at(-1);
    expect(await endOf(pausing.runId)).toMatchObject({ status: "paused" });
    expect(await endOf(queued.runId)).toMatchObject({ status: "error", error: { code: "approval_pending" } });
    const history = await historyOf(h);
    expect(history.entries.filter((entry) => entry.type === "user")).toHaveLength(1);
    expect(history.pendingApproval).toBeDefined();
  });
});

describe("over the WebSocket", () => {
  it("pauses a chat.send run, refuses the next chat.send, and approvals.decide carries on with its events", async () => {
    const h = await gateway({ hookToken: "ws-token" });
    const server = await startServer(h.gateway.app, 0, "127.0.0.1", (request, socket, head) => h.gateway.websocket.handleUpgrade(request, socket, head));
    cleanups.push(() => server.close());
    const client = connectTestSocket(`${server.url.replace("http", "ws")}/v1/ws`, { authorization: "Bearer ws-token", "x-tenant-id": TENANT_A }, sockets);
    await client.opened;
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Written over the socket." });

    client.request("send", "chat.send", { agent: "ada", message: "Write the plan down", sessionKey: "ws", integrations: ASK_BEFORE_WRITING, actor: { userId: "user-9" } });
    let frames = await client.until((all) => all.some((frame) => frame.event === "run-end"));
    const events = frames.filter((frame) => frame.type === "event").map((frame) => frame.payload as RunEvent);
    const approval = approvalOf(events);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "paused" });

    client.request("again", "chat.send", { agent: "ada", message: "Hello?", sessionKey: "ws" });
    await client.until((all) => all.some((frame) => frame.id === "again"));
    expect(client.frames.find((frame) => frame.id === "again")).toMatchObject({ ok: false, error: { code: "approval_pending" } });

    client.request("decide", "approvals.decide", { agent: "ada", sessionKey: "ws", approvalId: approval.approvalId, decision: "approve", actor: { userId: "user-9" }, integrations: ASK_BEFORE_WRITING });
    frames = await client.until((all) => all.filter((frame) => frame.event === "run-end").length === 2);
    const decided = frames.find((frame) => frame.id === "decide");
    expect(decided).toMatchObject({ ok: true, payload: { sessionKey: "ws" } });
    const runId = (decided?.payload as { runId: string }).runId;
    const resumed = frames.filter((frame) => frame.type === "event" && (frame.payload as RunEvent).runId === runId).map((frame) => frame.payload as RunEvent);
    expect(replyText(resumed)).toBe("Written over the socket.");
    expect((await historyOf(h, "ws")).entries[2]).toMatchObject({ approval: { decision: "approve", decidedBy: { userId: "user-9" } } });
  });
});

describe.skipIf(!reachable)("in a cluster (Redis)", () => {
  /** A gateway listening on a port, in the cluster's membership, with relay, leases and idempotency keys in Redis; `holder` overrides who holds a lease. */
  async function member(prefix: string, name: string, dataDir?: string, holder?: (key: string) => Promise<string | undefined>) {
    const logger = createConsoleLogger(`[${name}]`);
    const memberId = newMemberId(`test-${name}`);
    const leases = createRedisLeases({ url: REDIS_URL, memberId, logger, keyPrefix: prefix });
    const harness = await gateway({
      ...(dataDir ? { dataDir } : {}),
      memberId,
      relay: createRedisRunRelay({ url: REDIS_URL, logger, retentionMs: 60_000, runTimeoutMs: 30_000, keyPrefix: prefix, blockMs: 200 }),
      idempotency: createRedisIdempotencyKeys({ url: REDIS_URL, logger, keyPrefix: prefix }),
      leases: holder ? { acquire: (key, options) => leases.acquire(key, options), tryAcquire: (key) => leases.tryAcquire(key), close: () => leases.close(), holder } : leases,
      config: { redisUrl: REDIS_URL, redisKeyPrefix: prefix },
    });
    const server = await startServer(harness.gateway.app, 0, "127.0.0.1", (request, socket, head) => harness.gateway.websocket.handleUpgrade(request, socket, head));
    cleanups.push(() => server.close());
    await harness.gateway.join(server.url);
    return harness;
  }

  const newPrefix = () => {
    const prefix = `workforce-test:${randomUUID()}:`;
    prefixes.push(prefix);
    return prefix;
  };

  it("starts one run for decisions arriving at two gateways at once, followed from either", async () => {
    const prefix = newPrefix();
    const first = await member(prefix, "a");
    const second = await member(prefix, "b", first.dataDir);
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Written once." });
    const approval = approvalOf(await sent(first, "Write the plan down"));

    const url = `/v1/agents/ada/sessions/s/approvals/${approval.approvalId}`;
    const answers = await Promise.all([first, second, second].map((h) => h.request("POST", url, { body: { decision: "approve", integrations: ASK_BEFORE_WRITING } })));
    expect(answers.map((answer) => answer.status)).toEqual([202, 202, 202]);
    const runIds = new Set(await Promise.all(answers.map(async (answer) => RunInfo.parse(await answer.json()).runId)));
    expect(runIds.size).toBe(1);
    const [runId] = [...runIds] as [string];
    for (const h of [first, second]) {
      const events = await readRunEvents(await h.request("GET", `/v1/runs/${runId}/events`));
      expect(replyText(events)).toBe("Written once.");
    }
    const lines = await transcriptLines(first, (await historyOf(first)).session.sessionId);
    expect(lines.filter((line) => line.type === "approval-decision")).toHaveLength(1);
    expect(lines.filter((line) => line.type === "tool-result")).toHaveLength(1);
  });

  it("forwards a decision to the gateway holding the session's lease, which runs it", async () => {
    const prefix = newPrefix();
    const holders = new Map<string, string>();
    const first = await member(prefix, "c", undefined, async (key) => holders.get(key));
    const second = await member(prefix, "d", first.dataDir);
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Written where the lease is." });
    const approval = approvalOf(await sent(first, "Write the plan down"));
    const { sessionId } = (await historyOf(first)).session;
    holders.set(`run:${TENANT_A}/ada/${sessionId}`, second.gateway.membership.memberId);

    const response = await decide(first, approval.approvalId, { decision: "approve" }, { headers: { "x-workforce-user-id": "user-3" } });
    const runId = response.headers.get("x-run-id")!;
    const events = await readRunEvents(response);
    expect(replyText(events)).toBe("Written where the lease is.");
    expect(second.gateway.runs.get(TENANT_A, runId).runId).toBe(runId);
    expect(() => first.gateway.runs.get(TENANT_A, runId)).toThrow(/no run/);
    expect((await historyOf(first)).entries[2]).toMatchObject({ approval: { decision: "approve", decidedBy: { userId: "user-3" } } });
  });
});
