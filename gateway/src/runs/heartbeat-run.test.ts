import { readFile } from "node:fs/promises";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { ApiErrorBody, DEFAULT_HEARTBEAT_PROMPT, HeartbeatFile, SessionHistory, UsageJournalPage, type RunEvent, type TenantPolicy } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createProviders } from "../llm/create-providers";
import { DEFAULT_TENANT_LIMITS } from "../tenants/tenant-policy";
import { readRunEvents, replyText, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

let upstream: FakeUpstream;
let harness: TestGateway | undefined;
beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
  upstream.reset();
});

const CHECKLIST = "# Heartbeat checklist\n\n- Look at notes/inbox.md; alert when anything in it is marked URGENT.\n";

async function start(): Promise<TestGateway> {
  const providers = createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: undefined });
  harness = await startTestGateway({ providers, config: { defaultModel: "claude-fake-1" } });
  expect((await harness.createAgent(TENANT_A)).status).toBe(201);
  return harness;
}

async function setChecklist(h: TestGateway, content: string, tenant = TENANT_A): Promise<HeartbeatFile> {
  const response = await h.request("PUT", "/v1/agents/ada/heartbeat", { tenant, body: { content } });
  expect(response.status).toBe(200);
  return HeartbeatFile.parse(await response.json());
}

async function heartbeat(h: TestGateway, body: Record<string, unknown> = {}): Promise<RunEvent[]> {
  const response = await h.request("POST", "/v1/agents/ada/runs", { body: { message: DEFAULT_HEARTBEAT_PROMPT, heartbeat: true, ...body }, headers: { accept: "text/event-stream" } });
  expect(response.status).toBe(200);
  return readRunEvents(response);
}

async function chat(h: TestGateway, message: string, sessionKey: string): Promise<RunEvent[]> {
  return readRunEvents(await h.request("POST", "/v1/agents/ada/runs", { body: { message, sessionKey }, headers: { accept: "text/event-stream" } }));
}

async function history(h: TestGateway, key = "heartbeat"): Promise<SessionHistory> {
  const response = await h.request("GET", `/v1/agents/ada/sessions/${key}`);
  expect(response.status).toBe(200);
  return SessionHistory.parse(await response.json());
}

async function transcriptBytes(h: TestGateway, sessionId: string): Promise<string> {
  return readFile(path.join(h.dataDir, TENANT_A, "agents", "ada", "sessions", `${sessionId}.jsonl`), "utf8");
}

/** The tenant's usage records, once `count` runs are journaled (they are written just after a run ends). */
async function journal(h: TestGateway, count: number) {
  for (;;) {
    const page = UsageJournalPage.parse(await (await h.request("GET", "/v1/usage/journal")).json());
    if (page.entries.length >= count) return page.entries.map((entry) => entry.record);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("heartbeat runs (HEARTBEAT.md, HEARTBEAT_OK)", () => {
  it("skips a heartbeat without a model call while HEARTBEAT.md is missing or asks for nothing", async () => {
    const h = await start();
    const missing = await heartbeat(h);
    expect(missing.at(-1)).toMatchObject({ type: "run-end", status: "ok", usage: { inputTokens: 0, outputTokens: 0 }, heartbeat: { outcome: "skipped" } });

    const file = await setChecklist(h, "# Heartbeat\n\n<!-- add checks here,\n one per line -->\n- [ ]\n\n## Later\n");
    expect(file).toEqual(expect.objectContaining({ exists: true, empty: true }));
    const empty = await heartbeat(h);
    expect(empty.at(-1)).toMatchObject({ type: "run-end", status: "ok", heartbeat: { outcome: "skipped" } });

    expect(upstream.requests).toHaveLength(0);
    expect((await history(h)).entries).toEqual([]);
    const records = await journal(h, 2);
    expect(records.map((record) => record.heartbeat)).toEqual([{ outcome: "skipped" }, { outcome: "skipped" }]);
  });

  it("keeps nothing of an exchange answered HEARTBEAT_OK, and counts its tokens", async () => {
    const h = await start();
    await setChecklist(h, CHECKLIST);
    upstream.enqueue({ kind: "text", text: "Earlier answer." });
    await chat(h, "Something said in the heartbeat session before", "heartbeat");
    const before = await history(h);
    const bytesBefore = await transcriptBytes(h, before.session.sessionId);

    // A tool call first (its effect stays), then the acknowledgement with a little text (≤ 300 characters).
    upstream.enqueue({ kind: "tool_use", name: "read_file", input: { path: "notes/inbox.md" } }, { kind: "text", text: "**HEARTBEAT_OK** Nothing urgent in the inbox." });
    const events = await heartbeat(h);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok", heartbeat: { outcome: "ok" } });
    expect(replyText(events)).toContain("HEARTBEAT_OK");

    expect(await transcriptBytes(h, before.session.sessionId)).toBe(bytesBefore);
    expect(await history(h)).toEqual(before);
    // The model saw the checklist in its system prompt and the convention's prompt as the message.
    const request = upstream.requests[1]!.body as { system: string; messages: { role: string; content: string | { type: string; text?: string }[] }[] };
    expect(request.system).toContain("Look at notes/inbox.md");
    expect(JSON.stringify(request.messages.at(-1))).toContain("If nothing needs attention, reply HEARTBEAT_OK.");
    const records = await journal(h, 2);
    expect(records[1]).toMatchObject({ sessionKey: "heartbeat", status: "ok", heartbeat: { outcome: "ok" } });
    expect(records[1]!.inputTokens).toBeGreaterThan(0);
  });

  it("keeps an alert in the heartbeat session and reports its text", async () => {
    const h = await start();
    await setChecklist(h, CHECKLIST);
    upstream.enqueue({ kind: "text", text: "URGENT: the invoice for ACME is overdue since Monday." });
    const events = await heartbeat(h);
    expect(events.at(-1)).toMatchObject({
      type: "run-end",
      status: "ok",
      heartbeat: { outcome: "alert", text: "URGENT: the invoice for ACME is overdue since Monday." },
    });
    const kept = await history(h);
    expect(kept.session.title).toBe("Heartbeat");
    expect(kept.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
    expect(kept.entries[0]).toMatchObject({ content: [{ type: "text", text: DEFAULT_HEARTBEAT_PROMPT }] });
    expect(kept.entries[1]).toMatchObject({ content: [{ type: "text", text: "URGENT: the invoice for ACME is overdue since Monday." }] });

    // HEARTBEAT_OK with more than 300 characters after it is an alert too, without the token.
    const long = `HEARTBEAT_OK ${"The quarterly report needs your review before Friday. ".repeat(8)}`.trim();
    upstream.enqueue({ kind: "text", text: long });
    const second = await heartbeat(h, { sessionKey: "ops-heartbeat" });
    const end = second.at(-1);
    expect(end).toMatchObject({ type: "run-end", heartbeat: { outcome: "alert" } });
    if (end?.type === "run-end") expect(end.heartbeat?.text).toBe(long.slice("HEARTBEAT_OK ".length));
    expect((await history(h, "ops-heartbeat")).entries).toHaveLength(2);
    expect((await journal(h, 2)).map((record) => record.heartbeat?.outcome)).toEqual(["alert", "alert"]);
  });

  it("keeps nothing of a heartbeat that fails part-way", async () => {
    const h = await start();
    await setChecklist(h, CHECKLIST);
    upstream.enqueue({ kind: "overloaded-mid-stream", afterTokens: 2, text: "URGENT things are happening" });
    const events = await heartbeat(h);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "provider_overloaded" }, heartbeat: { outcome: "failed" } });
    expect((await history(h)).entries).toEqual([]);
  });

  it("keeps a heartbeat that stops at a tool call waiting for approval, so the decision can go on from it", async () => {
    const h = await start();
    await setChecklist(h, CHECKLIST);
    upstream.enqueue({ kind: "tool_use", name: "write_file", input: { path: "notes/today.md", content: "remember" } });
    const events = await heartbeat(h, { integrations: { toolModes: { write_file: "ask" } } });
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "paused", heartbeat: { outcome: "alert" } });
    const approval = events.find((event) => event.type === "approval-required");
    expect(approval).toBeDefined();
    const kept = await history(h);
    expect(kept.pendingApproval).toMatchObject({ name: "write_file" });
    expect(kept.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);

    upstream.enqueue({ kind: "text", text: "Noted for today." });
    const decided = await h.request("POST", `/v1/agents/ada/sessions/heartbeat/approvals/${approval?.type === "approval-required" ? approval.approvalId : ""}`, {
      body: { decision: "approve", integrations: { toolModes: { write_file: "ask" } } },
      headers: { accept: "text/event-stream" },
    });
    expect((await readRunEvents(decided)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(await readFile(path.join(h.dataDir, TENANT_A, "workspace", "ada", "notes", "today.md"), "utf8")).toBe("remember");
  });

  it("refuses a heartbeat over the tenant's budget like any run, before a model call or a transcript line", async () => {
    const h = await start();
    await setChecklist(h, CHECKLIST);
    const policy: TenantPolicy = { version: 1, suspended: false, suspendedReason: null, limits: { ...DEFAULT_TENANT_LIMITS, monthlyTokens: 0 } };
    expect((await h.request("PUT", "/v1/tenant/policy", { body: policy })).status).toBe(200);
    const refused = await h.request("POST", "/v1/agents/ada/runs", { body: { message: DEFAULT_HEARTBEAT_PROMPT, heartbeat: true } });
    expect(refused.status).toBe(429);
    expect(ApiErrorBody.parse(await refused.json()).error.code).toBe("budget_exceeded");
    expect(upstream.requests).toHaveLength(0);
    expect((await h.request("GET", "/v1/agents/ada/sessions/heartbeat")).status).toBe(404);
  });

  it("reads and replaces HEARTBEAT.md per tenant and agent", async () => {
    const h = await start();
    expect(HeartbeatFile.parse(await (await h.request("GET", "/v1/agents/ada/heartbeat")).json())).toEqual({ content: "", exists: false, empty: true });
    await setChecklist(h, CHECKLIST);
    expect(await readFile(path.join(h.dataDir, TENANT_A, "workspace", "ada", "HEARTBEAT.md"), "utf8")).toBe(CHECKLIST);
    expect(HeartbeatFile.parse(await (await h.request("GET", "/v1/agents/ada/heartbeat")).json())).toEqual({ content: CHECKLIST, exists: true, empty: false });
    const other = await h.request("GET", "/v1/agents/ada/heartbeat", { tenant: TENANT_B });
    expect(other.status).toBe(404);
    expect(ApiErrorBody.parse(await other.json()).error.code).toBe("agent_not_found");
    const tooLong = await h.request("PUT", "/v1/agents/ada/heartbeat", { body: { content: "x".repeat(20_001) } });
    expect(tooLong.status).toBe(400);
  });
});
