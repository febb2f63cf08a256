import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { SessionHistory, SessionSummary, type RunEvent } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { ModelStreamPart } from "../llm/model-provider";
import { parseTranscript } from "../sessions/transcript";
import { createScriptedProvider } from "../test-support/scripted-provider";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const reply = (text: string): { parts: ModelStreamPart[] } => ({
  parts: [
    { type: "text-delta", text },
    { type: "finish", stopReason: "end_turn", usage: { inputTokens: 10, outputTokens: 5 } },
  ],
});

async function send(h: TestGateway, message: string, replacesRunId?: string): Promise<{ runId: string; events: RunEvent[] }> {
  const response = await h.request("POST", "/v1/agents/ada/runs", { body: { message, sessionKey: "s", ...(replacesRunId ? { replacesRunId } : {}) }, headers: { accept: "text/event-stream" } });
  const events = await readRunEvents(response);
  const start = events.find((event) => event.type === "run-start");
  return { runId: start?.runId ?? "", events };
}

async function history(h: TestGateway) {
  return SessionHistory.parse(await (await h.request("GET", "/v1/agents/ada/sessions/s")).json());
}

const said = (entries: SessionHistory["entries"]) =>
  entries.map((entry) => (entry.type === "user" || entry.type === "assistant" ? `${entry.type}: ${entry.content.map((block) => (block.type === "text" ? block.text : "")).join("")}` : entry.type));

async function transcriptText(h: TestGateway): Promise<string> {
  const { sessionId } = (await history(h)).session;
  const files = (await readdir(path.join(h.dataDir, TENANT_A), { recursive: true })).filter((file) => path.basename(file) === `${sessionId}.jsonl`);
  expect(files).toHaveLength(1);
  return readFile(path.join(h.dataDir, TENANT_A, files[0] ?? ""), "utf8");
}

describe("edit and regenerate (decision 041)", () => {
  it("replaces a message and what followed it for the model and the reader, keeping the old lines in the file", async () => {
    const provider = createScriptedProvider([reply("One."), reply("Two."), reply("Two, edited."), reply("Two, again."), reply("Hi.")]);
    harness = await startTestGateway({ providers: { anthropic: provider } });
    await harness.createAgent(TENANT_A, { model: "claude-test" });
    const first = await send(harness, "first");
    const second = await send(harness, "second");

    // Edit and resend the second message.
    const edited = await send(harness, "second, edited", second.runId);
    expect(edited.events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(provider.requests[2]?.messages.map((message) => message.content.map((block) => (block.type === "text" ? block.text : block.type)).join(""))).toEqual(["first", "One.", "second, edited"]);
    expect(said((await history(harness)).entries)).toEqual(["user: first", "assistant: One.", "user: second, edited", "assistant: Two, edited."]);

    // Regenerate the last reply: the same message again, in its own place.
    await send(harness, "second, edited", edited.runId);
    expect(provider.requests[3]?.messages).toHaveLength(3);
    const after = await history(harness);
    expect(said(after.entries)).toEqual(["user: first", "assistant: One.", "user: second, edited", "assistant: Two, again."]);
    const summary = SessionSummary.parse(after.session);
    expect(summary.messageCount).toBe(4);
    expect(summary.lastMessagePreview).toBe("Two, again.");

    // Append-only: every line is still in the file, and reading the file afresh gives the same conversation.
    const text = await transcriptText(harness);
    for (const line of ["\"second\"", "Two.", "Two, edited.", "Two, again."]) expect(text).toContain(line);
    expect(said(parseTranscript(text)?.entries ?? [])).toEqual(said(after.entries));

    // Editing the first message leaves only the new one.
    await send(harness, "hello", first.runId);
    expect(provider.requests[4]?.messages).toHaveLength(1);
    expect(said((await history(harness)).entries)).toEqual(["user: hello", "assistant: Hi."]);
  });

  it("refuses to replace a message an earlier edit already replaced, writing nothing", async () => {
    const provider = createScriptedProvider([reply("One."), reply("One, edited.")]);
    harness = await startTestGateway({ providers: { anthropic: provider } });
    await harness.createAgent(TENANT_A, { model: "claude-test" });
    const first = await send(harness, "first");
    await send(harness, "first, edited", first.runId);
    const before = await transcriptText(harness);

    const late = await send(harness, "first, edited in another tab", first.runId);
    expect(late.events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "message_replaced" } });
    expect(provider.requests).toHaveLength(2);
    expect(await transcriptText(harness)).toBe(before);
  });

  it("replaces nothing when the named run left no message (it failed before writing one)", async () => {
    const provider = createScriptedProvider([reply("One."), reply("Two.")]);
    harness = await startTestGateway({ providers: { anthropic: provider } });
    await harness.createAgent(TENANT_A, { model: "claude-test" });
    await send(harness, "first");
    await send(harness, "second", "run-that-never-wrote");
    expect(said((await history(harness)).entries)).toEqual(["user: first", "assistant: One.", "user: second", "assistant: Two."]);
  });
});

describe("reading a transcript with replacements", () => {
  const header = JSON.stringify({ type: "session", version: 1, sessionId: "x", key: "s", agent: "ada", createdAt: "2026-12-01T00:00:00.000Z" });
  const user = (id: string, parentId: string | null, text: string, runId: string, replaces?: string) =>
    JSON.stringify({ type: "user", id, parentId, timestamp: "2026-12-01T00:00:01.000Z", runId, content: [{ type: "text", text }], ...(replaces ? { replaces } : {}) });

  it("folds a replacement away, also after a crash tore the line that would have followed", () => {
    const text = [header, user("u1", null, "hello", "r1"), user("u2", "u1", "hello again", "r2", "u1"), '{"type":"assistant","id":"a'].join("\n");
    const transcript = parseTranscript(text);
    expect(transcript?.entries.map((entry) => entry.id)).toEqual(["u2"]);
    expect([...(transcript?.withdrawnRuns ?? [])]).toEqual(["r1"]);
    expect(transcript?.skippedLines).toEqual([4]);
  });
});
