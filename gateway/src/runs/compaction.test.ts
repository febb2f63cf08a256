import { SessionHistory, type TranscriptEntry } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { toModelMessages } from "./model-context";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const at = new Date(0).toISOString();
const user = (id: string, text: string): TranscriptEntry => ({ type: "user", id, parentId: null, timestamp: at, content: [{ type: "text", text }] });
const assistant = (id: string, text: string): TranscriptEntry => ({
  type: "assistant",
  id,
  parentId: null,
  timestamp: at,
  content: [{ type: "text", text }],
  model: { provider: "offline", id: "offline", offline: true },
  usage: { inputTokens: 1, outputTokens: 1 },
  stopReason: "end_turn",
});

describe("compaction", () => {
  it("replaces covered turns with the summary in the model context", () => {
    const entries: TranscriptEntry[] = [
      user("u1", "old question"),
      assistant("a1", "old answer"),
      { type: "compaction", id: "c1", parentId: "a1", timestamp: at, summary: "They talked about old things.", coversUntil: "a1" },
      user("u2", "new question"),
    ];
    expect(toModelMessages(entries)).toEqual([
      { role: "user", content: [{ type: "text", text: "Summary of the earlier conversation:\nThey talked about old things." }, { type: "text", text: "new question" }] },
    ]);
  });

  it("compacts a long session into a summary entry instead of failing, and keeps answering", async () => {
    harness = await startTestGateway({ compaction: { contextWindowTokens: 1_200, compactAtRatio: 0.7, keepRecentRatio: 0.2 } });
    await harness.createAgent(TENANT_A);
    for (let index = 1; index <= 6; index += 1) {
      const events = await readRunEvents(
        await harness.request("POST", "/v1/agents/ada/runs", { body: { message: `Question number ${index}: ${"tell me more ".repeat(10)}`, sessionKey: "long" }, headers: { accept: "text/event-stream" } }),
      );
      expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    }
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/long")).json());
    const compactions = history.entries.filter((entry) => entry.type === "compaction");
    expect(compactions.length).toBeGreaterThan(0);
    const first = compactions[0]!;
    if (first.type === "compaction") {
      expect(first.summary).toContain("Question number 1");
      expect(history.entries.some((entry) => entry.id === first.coversUntil)).toBe(true);
    }
    expect(history.session.messageCount).toBe(12);
  });
});
