import type { ApprovalView, RunEvent } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/api-error";
import type { ApiClient } from "../api/client";
import { createChatStore } from "./chat-store";
import type { AssistantMessage } from "./chat-types";
import { InflightStorage } from "./inflight-storage";
import { memoryStorage, scriptedRun, sseResponse } from "./test-support";

const tenantId = "00000000-0000-4000-8000-000000000001";
const model = { provider: "offline", id: "offline", offline: true };
const at = "2025-01-01T00:00:00.000Z";

/** A run that calls write_file and pauses for its approval. */
const pausedRun: RunEvent[] = [
  { type: "run-start", runId: "r1", seq: 1, agent: "ada", sessionKey: "s1", sessionId: "id1", model, at },
  { type: "tool-call-start", runId: "r1", seq: 2, toolCallId: "call-1", name: "write_file", input: { path: "notes.md" } },
  { type: "approval-required", runId: "r1", seq: 3, approvalId: "ap-1", toolCallId: "call-1", name: "write_file", input: { path: "notes.md" }, at },
  { type: "run-end", runId: "r1", seq: 4, status: "paused", usage: { inputTokens: 1, outputTokens: 1 }, at },
];

const view = (overrides: Partial<ApprovalView>): ApprovalView => ({
  id: "ap-1",
  agent: "ada",
  sessionKey: "s1",
  sessionOwner: { type: "user", id: "me", email: "me@example.com" },
  runId: "r1",
  toolCallId: "call-1",
  tool: "write_file",
  input: { path: "notes.md" },
  inputTruncated: false,
  status: "approved",
  requestedAt: at,
  expiresAt: at,
  decidedAt: at,
  decidedBy: { type: "user", id: "me", label: "me@example.com" },
  reason: null,
  resume: { runId: "r2", at, error: null },
  ...overrides,
});

const assistants = (messages: readonly { role: string }[]) => messages.filter((message): message is AssistantMessage => message.role === "assistant");

function store(api: Partial<ApiClient>) {
  let decided = 0;
  const chat = createChatStore({
    api: api as ApiClient,
    tenantId: () => tenantId,
    inflight: new InflightStorage(memoryStorage()),
    policy: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, idleTimeoutMs: 500 },
    resumePoll: { intervalMs: 1, attempts: 3 },
    onDecided: () => (decided += 1),
  });
  return { chat, decided: () => decided };
}

describe("a reply that waits for a tool call's approval", () => {
  it("shows paused (not failed) with the call to decide; approving follows the reply that carries on", async () => {
    const asked: { id: string; reason: string | undefined }[] = [];
    const { chat, decided } = store({
      sendMessage: async () => sseResponse(pausedRun, { runId: "r1" }),
      approvals: {
        approve: async (id: string, reason?: string) => {
          asked.push({ id, reason });
          return view({});
        },
      } as unknown as ApiClient["approvals"],
      runEvents: async (runId) => sseResponse(scriptedRun(runId, ["Saved", "."])),
    });
    await chat.send("ada", "Write it down");
    const paused = assistants(chat.getConversation("ada").messages)[0]!;
    expect(paused).toMatchObject({ status: "paused", approval: { approvalId: "ap-1", name: "write_file", input: { path: "notes.md" } } });
    expect(paused.error).toBeUndefined();

    await chat.decide("ada", paused.id, "approve", "fine");
    expect(asked).toEqual([{ id: "ap-1", reason: "fine" }]);
    expect(decided()).toBe(1);
    const [first, carriedOn] = assistants(chat.getConversation("ada").messages);
    expect(first?.approval?.outcome).toEqual({ status: "approved", by: "me@example.com" });
    expect(carriedOn).toMatchObject({ runId: "r2", status: "ok" });
    expect(carriedOn?.parts).toEqual([{ type: "text", text: "Saved." }]);
    // The live updates telling the same decision again change nothing.
    chat.approvalChanged("ada", view({}));
    expect(assistants(chat.getConversation("ada").messages)).toHaveLength(2);
  });

  it("decided first by someone else, shows theirs and follows it; a decision the gateway has not taken yet is waited for", async () => {
    let gets = 0;
    const { chat } = store({
      sendMessage: async () => sseResponse(pausedRun, { runId: "r1" }),
      approvals: {
        deny: async () => {
          throw new ApiError("approval_already_decided", 'Approval "ap-1" was already approved', 409);
        },
        get: async () => {
          gets += 1;
          return view({ decidedBy: { type: "user", id: "boss", label: "boss@example.com" }, resume: gets < 2 ? { runId: null, at: null, error: null } : { runId: "r3", at, error: null } });
        },
      } as unknown as ApiClient["approvals"],
      runEvents: async (runId) => sseResponse(scriptedRun(runId, ["Done"])),
    });
    await chat.send("ada", "Write it down");
    const paused = assistants(chat.getConversation("ada").messages)[0]!;
    await chat.decide("ada", paused.id, "deny");
    const [first, carriedOn] = assistants(chat.getConversation("ada").messages);
    expect(first?.approval).toMatchObject({ outcome: { status: "approved", by: "boss@example.com" }, deciding: false });
    expect(carriedOn).toMatchObject({ runId: "r3", status: "ok" });
  });
});
