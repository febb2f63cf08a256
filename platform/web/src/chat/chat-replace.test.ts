import type { SendMessageInput } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/api-error";
import type { ApiClient } from "../api/client";
import { canReplay, createChatStore } from "./chat-store";
import { InflightStorage } from "./inflight-storage";
import { memoryStorage, scriptedRun, sseResponse } from "./test-support";

const tenantId = "00000000-0000-4000-8000-000000000001";
const policy = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 2, idleTimeoutMs: 500 };

/** A chat whose every send answers a new run r1, r2, … echoing the message; `sent` is what was asked. */
function echoingChat(fail?: (input: SendMessageInput) => Error | undefined) {
  const sent: SendMessageInput[] = [];
  const chat = createChatStore({
    api: {
      sendMessage: async (_agent: string, input: SendMessageInput) => {
        sent.push(input);
        const failure = fail?.(input);
        if (failure) throw failure;
        const runId = `r${sent.length}`;
        return sseResponse(scriptedRun(runId, [`Echo: ${input.message}`]), { runId });
      },
    } as unknown as ApiClient, // only the calls the chat store makes in this test
    tenantId: () => tenantId,
    inflight: new InflightStorage(memoryStorage()),
    policy,
  });
  const shown = () => chat.getConversation("ada").messages.map((message) => (message.role === "user" ? `user: ${message.text}` : `assistant: ${message.parts.map((part) => (part.type === "text" ? part.text : "")).join("")}`));
  return { chat, sent, shown };
}

describe("edit, regenerate and retry (decision 041)", () => {
  it("edits a message in place: the conversation is cut before it and the server told which run's message it replaces", async () => {
    const { chat, sent, shown } = echoingChat();
    await chat.send("ada", "first");
    await chat.send("ada", "second");
    const first = chat.getConversation("ada").messages[0];
    expect(first).toMatchObject({ role: "user", runId: "r1" });

    await chat.edit("ada", first?.id ?? "", "hello");
    expect(sent.at(-1)).toMatchObject({ message: "hello", sessionKey: "s1", replacesRunId: "r1" });
    expect(shown()).toEqual(["user: hello", "assistant: Echo: hello"]);

    await chat.regenerate("ada");
    expect(sent.at(-1)).toMatchObject({ message: "hello", replacesRunId: "r3" });
    expect(shown()).toEqual(["user: hello", "assistant: Echo: hello"]);
    expect(chat.getConversation("ada").messages.at(-1)).toMatchObject({ runId: "r4", status: "ok" });
  });

  it("retries a message that never reached the server as a plain send, with nothing to replace", async () => {
    let refuse = true;
    const { chat, sent, shown } = echoingChat(() => (refuse ? new ApiError("budget_exceeded", "over budget", 429) : undefined));
    await chat.send("ada", "hi");
    expect(chat.getConversation("ada").messages.at(-1)).toMatchObject({ status: "error", error: { code: "budget_exceeded" } });
    refuse = false;
    await chat.retry("ada");
    expect(sent.at(-1)).toEqual(expect.not.objectContaining({ replacesRunId: expect.anything() }));
    expect(shown()).toEqual(["user: hi", "assistant: Echo: hi"]);
  });

  it("offers edits only where the server can find the message", () => {
    const user = (id: string, runId?: string) => ({ id, role: "user" as const, text: id, ...(runId ? { runId } : {}) });
    const reply = (id: string, runId?: string) => ({ id, role: "assistant" as const, parts: [], status: "error" as const, ...(runId ? { runId } : {}) });
    expect(canReplay([user("a", "r1"), reply("b", "r1"), user("c")], 0)).toBe(true);
    // Unknown to the server and followed by a real exchange: editing it would replace nothing there.
    expect(canReplay([user("a"), reply("b"), user("c", "r2"), reply("d", "r2")], 0)).toBe(false);
    // The last message, refused before it reached the server: resending it is all an edit means.
    expect(canReplay([user("a", "r1"), reply("b", "r1"), user("c"), reply("d")], 2)).toBe(true);
    expect(canReplay([user("a", "r1"), reply("b", "r1")], 1)).toBe(false);
  });
});
