import type { SessionSummary, TranscriptLine } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { summarizeAppend, summarizeTranscript } from "./session-summary";
import { emptyTranscript, foldLine, type Transcript } from "./transcript";

const header = { type: "session" as const, version: 1 as const, sessionId: "s1", key: "chat", agent: "ada", createdAt: "2026-01-01T00:00:00.000Z" };
const at = (second: number) => `2026-01-01T00:00:${String(second).padStart(2, "0")}.000Z`;

const lines: TranscriptLine[] = [
  { type: "user", id: "u1", parentId: null, timestamp: at(1), content: [{ type: "text", text: "  First   question\nabout things " }] },
  { type: "assistant", id: "a1", parentId: "u1", timestamp: at(2), content: [{ type: "text", text: "An answer." }], model: { provider: "anthropic", id: "claude-x", offline: false }, usage: { inputTokens: 10, outputTokens: 5 }, stopReason: "end_turn" },
  { type: "session-meta", id: "m1", timestamp: at(3), title: "Renamed" },
  { type: "user", id: "u2", parentId: "a1", timestamp: at(4), content: [{ type: "text", text: "   " }] },
  { type: "assistant", id: "a2", parentId: "u2", timestamp: at(5), content: [{ type: "tool-call", toolCallId: "c1", name: "read_file", input: {} }], model: { provider: "anthropic", id: "claude-y", offline: false }, usage: { inputTokens: 20, outputTokens: 7 }, stopReason: "tool_use" },
  { type: "approval-request", id: "p1", timestamp: at(5), runId: "r1", approvalId: "ap1", toolCallId: "c1", name: "read_file", input: { path: "notes.md" } },
  { type: "approval-decision", id: "d1", timestamp: at(6), runId: "r2", approvalId: "ap1", toolCallId: "c1", decision: "approve", decidedBy: { userId: "u-1" } },
  { type: "tool-result", id: "t1", parentId: "a2", timestamp: at(6), toolCallId: "c1", name: "read_file", output: "x".repeat(300), isError: false },
  { type: "session-meta", id: "m2", timestamp: at(7) },
  { type: "compaction", id: "k1", parentId: "t1", timestamp: at(8), summary: "earlier", coversUntil: "t1" },
  { type: "approval-request", id: "p2", timestamp: at(9), runId: "r2", approvalId: "ap2", toolCallId: "c2", name: "write_file", input: { path: "x" } },
];

function transcriptOf(prefix: readonly TranscriptLine[]): Transcript {
  const transcript = emptyTranscript(header);
  for (const line of prefix) foldLine(transcript, line);
  return transcript;
}

describe("summarizeAppend", () => {
  it("gives what summarizing the whole transcript gives, appending in any grouping", () => {
    const created: SessionSummary = summarizeTranscript(transcriptOf([]));
    for (const groupSize of [1, 2, 3]) {
      let summary = created;
      for (let start = 0; start < lines.length; start += groupSize) {
        const end = Math.min(lines.length, start + groupSize);
        summary = summarizeAppend(summary, lines.slice(start, end));
        expect(summary).toEqual(summarizeTranscript(transcriptOf(lines.slice(0, end)), created));
      }
      expect(summary).toMatchObject({ title: "Renamed", messageCount: 4, inputTokens: 30, outputTokens: 12, model: "claude-y", lastMessagePreview: "An answer.", updatedAt: at(8) });
      expect(summary.pendingApproval).toEqual({ approvalId: "ap2", runId: "r2", toolCallId: "c2", name: "write_file", requestedAt: at(9) });
    }
  });
});
