import { readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { ApiErrorBody, RunInfo, SessionHistory, SessionSummary, TranscriptEntry, TranscriptHeader, TranscriptLine, type RunEvent } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { readRunEvents, replyText, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const SSE = { accept: "text/event-stream" };

async function send(h: TestGateway, body: Record<string, unknown>, tenant = TENANT_A, agent = "ada") {
  return h.request("POST", `/v1/agents/${agent}/runs`, { tenant, body, headers: SSE });
}

describe("runs over SSE", () => {
  it("streams the offline reply built from the agent's identity and ends ok with usage", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    const response = await send(harness, { message: "Who are you?" });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const runId = response.headers.get("x-run-id");
    const events = await readRunEvents(response);

    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.every((event) => event.runId === runId)).toBe(true);
    const start = events[0];
    expect(start?.type).toBe("run-start");
    if (start?.type === "run-start") expect(start.model).toEqual({ provider: "offline", id: "offline", offline: true });
    const text = replyText(events);
    expect(text.startsWith("I'm Ada, Research Analyst.")).toBe(true);
    expect(text).not.toMatch(/claude/i);
    expect(events.filter((event) => event.type === "text-delta").length).toBeGreaterThan(5);
    const end = events.at(-1);
    expect(end?.type).toBe("run-end");
    if (end?.type === "run-end") {
      expect(end.status).toBe("ok");
      expect(end.usage.outputTokens).toBeGreaterThan(0);
      expect(end.usage.inputTokens).toBeGreaterThan(0);
    }
  });

  it("writes sessions.json and a transcript whose lines parse with the protocol schemas", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    const events = await readRunEvents(await send(harness, { message: "Who are you?" }));
    const start = events[0] as Extract<RunEvent, { type: "run-start" }>;
    const sessionsDir = path.join(harness.dataDir, TENANT_A, "agents", "ada", "sessions");

    const registry = JSON.parse(await readFile(path.join(sessionsDir, "sessions.json"), "utf8")) as Record<string, unknown>;
    const entry = SessionSummary.parse(registry[start.sessionKey]);
    expect(entry).toMatchObject({ sessionId: start.sessionId, title: "Who are you?", messageCount: 2 });
    expect(entry.lastMessagePreview).toContain("I'm Ada");

    const lines = (await readFile(path.join(sessionsDir, `${start.sessionId}.jsonl`), "utf8")).trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(TranscriptHeader.parse(JSON.parse(lines[0]!))).toMatchObject({ sessionId: start.sessionId, agent: "ada" });
    const [user, assistant] = lines.slice(1).map((line) => TranscriptEntry.parse(JSON.parse(line)));
    expect(user).toMatchObject({ type: "user", parentId: null, content: [{ type: "text", text: "Who are you?" }] });
    expect(assistant).toMatchObject({ type: "assistant", parentId: user!.id, stopReason: "end_turn", model: { offline: true } });
    if (assistant?.type === "assistant") expect(assistant.content).toEqual([{ type: "text", text: replyText(events) }]);

    const history = SessionHistory.parse(await (await harness.request("GET", `/v1/agents/ada/sessions/${start.sessionKey}`)).json());
    expect(history.entries.map((item) => item.type)).toEqual(["user", "assistant"]);
    const list = (await (await harness.request("GET", "/v1/agents/ada/sessions")).json()) as { sessions: SessionSummary[] };
    expect(list.sessions.map((item) => item.key)).toEqual([start.sessionKey]);
  });

  it("continues a session by key and creates one for an unknown key", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    await readRunEvents(await send(harness, { message: "first", sessionKey: "chat-1" }));
    await readRunEvents(await send(harness, { message: "second", sessionKey: "chat-1" }));
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/chat-1")).json());
    expect(history.session.messageCount).toBe(4);
    expect(history.session.title).toBe("first");
    expect(history.entries.filter((entry) => entry.type === "user").map((entry) => entry.content[0]?.text)).toEqual(["first", "second"]);

    const renamed = await harness.request("PATCH", "/v1/agents/ada/sessions/chat-1", { body: { title: "Renamed" } });
    expect(((await renamed.json()) as { session: SessionSummary }).session.title).toBe("Renamed");
    expect((await harness.request("DELETE", "/v1/agents/ada/sessions/chat-1")).status).toBe(204);
    expect((await harness.request("GET", "/v1/agents/ada/sessions/chat-1")).status).toBe(404);
  });

  it("keeps a rename across a restart that rebuilds the registry from the transcripts alone", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    await readRunEvents(await send(harness, { message: "what is on my plate", sessionKey: "plans" }));
    const renamed = await harness.request("PATCH", "/v1/agents/ada/sessions/plans", { body: { title: "Weekly plan" } });
    expect(renamed.status).toBe(200);
    const dataDir = harness.dataDir;
    await harness.gateway.close();
    const sessionsDir = path.join(dataDir, TENANT_A, "agents", "ada", "sessions");
    await rm(path.join(sessionsDir, "sessions.json"), { force: true });
    await rm(path.join(sessionsDir, "sessions.journal.jsonl"), { force: true });

    const restarted = await startTestGateway({ dataDir });
    try {
      const listed = (await (await restarted.request("GET", "/v1/agents/ada/sessions")).json()) as { sessions: SessionSummary[] };
      expect(listed.sessions).toMatchObject([{ key: "plans", title: "Weekly plan", messageCount: 2 }]);
      // The history answer carries only messages; the rename lives in a separate session-meta line.
      const history = SessionHistory.parse(await (await restarted.request("GET", "/v1/agents/ada/sessions/plans")).json());
      expect(history.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
      const lines = (await readFile(path.join(sessionsDir, `${history.session.sessionId}.jsonl`), "utf8")).trim().split("\n");
      expect(lines.slice(1).map((line) => TranscriptLine.parse(JSON.parse(line)).type)).toEqual(["user", "assistant", "session-meta"]);
      // A later message keeps the chosen title rather than the first message's.
      await readRunEvents(await send(restarted, { message: "and next week?", sessionKey: "plans" }));
      expect(SessionHistory.parse(await (await restarted.request("GET", "/v1/agents/ada/sessions/plans")).json()).session.title).toBe("Weekly plan");
    } finally {
      await restarted.cleanup();
      await harness.cleanup();
    }
  });

  it("replays exactly the events after N, and Last-Event-ID works too", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    const response = await send(harness, { message: "Who are you?" });
    const runId = response.headers.get("x-run-id")!;
    const all = await readRunEvents(response);
    const after = 3;
    const replay = await readRunEvents(await harness.request("GET", `/v1/runs/${runId}/events?after=${after}`));
    expect(replay).toEqual(all.slice(after));
    const viaHeader = await readRunEvents(await harness.request("GET", `/v1/runs/${runId}/events`, { headers: { "last-event-id": "5" } }));
    expect(viaHeader).toEqual(all.slice(5));
    const info = RunInfo.parse(await (await harness.request("GET", `/v1/runs/${runId}`)).json());
    expect(info).toMatchObject({ runId, status: "ok", lastSeq: all.length });
  });

  it("answers 202 RunInfo without Accept: text/event-stream, and the run completes", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    const response = await harness.request("POST", "/v1/agents/ada/runs", { body: { message: "hello" } });
    expect(response.status).toBe(202);
    const info = RunInfo.parse(await response.json());
    expect(response.headers.get("x-run-id")).toBe(info.runId);
    const events = await readRunEvents(await harness.request("GET", `/v1/runs/${info.runId}/events`));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
  });

  it("keeps running when the client disconnects, and abort stops a run with its partial text kept", async () => {
    harness = await startTestGateway({ config: { offlineTokenDelayMs: 20 } });
    await harness.createAgent(TENANT_A);
    const first = await send(harness, { message: "Who are you?", sessionKey: "s1" });
    const runId = first.headers.get("x-run-id")!;
    await first.body!.cancel();
    const events = await readRunEvents(await harness.request("GET", `/v1/runs/${runId}/events`));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });

    const second = await send(harness, { message: "Who are you?", sessionKey: "s1" });
    const secondId = second.headers.get("x-run-id")!;
    const reader = second.body!.getReader();
    let seen = "";
    while (!seen.includes("text-delta")) seen += new TextDecoder().decode((await reader.read()).value as Uint8Array | undefined);
    const aborted = RunInfo.parse(await (await harness.request("POST", `/v1/runs/${secondId}/abort`)).json());
    expect(aborted.runId).toBe(secondId);
    await reader.cancel();
    const rest = await readRunEvents(await harness.request("GET", `/v1/runs/${secondId}/events`));
    expect(rest.at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s1")).json());
    const last = history.entries.at(-1);
    expect(last?.type).toBe("assistant");
    if (last?.type === "assistant") {
      expect(last.interrupted?.code).toBe("aborted");
      expect(replyText(rest).length).toBeGreaterThan(0);
    }
  });

  it("isolates tenants: same slug and session key, separate transcripts, runs invisible across tenants", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    await harness.createAgent(TENANT_B, { name: "Ada", role: "Bookkeeper" });
    const a = await send(harness, { message: "Who are you?", sessionKey: "shared" }, TENANT_A);
    const runA = a.headers.get("x-run-id")!;
    const textA = replyText(await readRunEvents(a));
    const textB = replyText(await readRunEvents(await send(harness, { message: "Who are you?", sessionKey: "shared" }, TENANT_B)));
    expect(textA).toContain("Research Analyst");
    expect(textB).toContain("Bookkeeper");
    const historyB = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/shared", { tenant: TENANT_B })).json());
    expect(historyB.session.messageCount).toBe(2);
    const stolen = await harness.request("GET", `/v1/runs/${runA}/events`, { tenant: TENANT_B });
    expect(stolen.status).toBe(404);
    expect(ApiErrorBody.parse(await stolen.json()).error.code).toBe("run_not_found");
    expect((await harness.request("POST", `/v1/runs/${runA}/abort`, { tenant: TENANT_B })).status).toBe(404);
  });

  it("fails with agent_identity_missing naming the file inside the tenant, never the absolute path, when IDENTITY.md is gone", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    const identity = path.join(harness.dataDir, TENANT_A, "workspace", "ada", "IDENTITY.md");
    await rm(identity);
    const events = await readRunEvents(await send(harness, { message: "Who are you?", sessionKey: "s" }));
    expect(events.map((event) => event.type)).toEqual(["run-start", "run-end"]);
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "error", error: { code: "agent_identity_missing" } });
    if (end?.type === "run-end") expect(end.error?.message).toContain("workspace/ada/IDENTITY.md");
    expect(JSON.stringify(events)).not.toContain(harness.dataDir);
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s")).json());
    expect(history.entries).toEqual([]);
  });

  it("answers 20 messages sent at once to one session, in order, with no lost registry update", async () => {
    harness = await startTestGateway({ registry: { minJournalLines: 4, compactDelayMs: 5, eagerMaxSessions: 0 } });
    await harness.createAgent(TENANT_A);
    const messages = Array.from({ length: 20 }, (_, index) => `message ${index + 1}`);
    const responses = await Promise.all(messages.map((message) => send(harness!, { message, sessionKey: "busy" })));
    const streams = await Promise.all(responses.map((response) => readRunEvents(response)));
    for (const events of streams) expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/busy")).json());
    expect(history.session.messageCount).toBe(40);
    const users = history.entries.filter((entry) => entry.type === "user").map((entry) => entry.content[0]?.text);
    expect(users).toEqual(messages);
    expect(history.entries.map((entry) => entry.type)).toEqual(messages.flatMap(() => ["user", "assistant"]));
    history.entries.forEach((entry, index) => expect(entry.parentId).toBe(index === 0 ? null : history.entries[index - 1]!.id));

    await harness.gateway.sessions.flushAll();
    const sessionsDir = path.join(harness.dataDir, TENANT_A, "agents", "ada", "sessions");
    const registry = JSON.parse(await readFile(path.join(sessionsDir, "sessions.json"), "utf8")) as Record<string, SessionSummary>;
    expect(registry.busy?.messageCount).toBe(40);
    expect((await readdir(sessionsDir)).filter((name) => name.endsWith(".jsonl") && !name.includes("journal"))).toHaveLength(1);
  });
});
