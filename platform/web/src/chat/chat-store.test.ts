import type { OwnedSessionHistory } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/api-error";
import type { ApiClient } from "../api/client";
import { createChatStore } from "./chat-store";
import type { AssistantMessage } from "./chat-types";
import { InflightStorage } from "./inflight-storage";
import { memoryStorage, scriptedRun, sseResponse } from "./test-support";

const tenantId = "00000000-0000-4000-8000-000000000001";
const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, idleTimeoutMs: 500 };

function fakeApi(overrides: Partial<ApiClient>): ApiClient {
  return overrides as ApiClient;
}

function lastAssistant(messages: readonly { role: string }[]): AssistantMessage {
  const message = [...messages].reverse().find((candidate) => candidate.role === "assistant");
  if (!message) throw new Error("no assistant message");
  return message as AssistantMessage;
}

const text = (message: AssistantMessage) => message.parts.map((part) => (part.type === "text" ? part.text : "")).join("");

describe("chat store", () => {
  it("streams a reply, survives a drop, and forgets the in-flight record when the run ends", async () => {
    const storage = memoryStorage();
    const events = scriptedRun("r1", ["I", " am", " Ada", "."]);
    const asked: number[] = [];
    const chat = createChatStore({
      api: fakeApi({
        sendMessage: async () => sseResponse(events, { cutAfter: 3, runId: "r1" }),
        runEvents: async (_runId, lastSeq) => {
          asked.push(lastSeq);
          expect(new InflightStorage(storage).find(tenantId, "ada")).toMatchObject({ runId: "r1", lastSeq: 3, sessionKey: "s1" });
          return sseResponse(events.filter((event) => event.seq > lastSeq));
        },
      }),
      tenantId: () => tenantId,
      inflight: new InflightStorage(storage),
      policy,
    });
    await chat.send("ada", "Who are you?");
    const conversation = chat.getConversation("ada");
    expect(asked).toEqual([3]);
    expect(conversation.sessionKey).toBe("s1");
    expect(conversation.run).toBeUndefined();
    expect(lastAssistant(conversation.messages)).toMatchObject({ status: "ok" });
    expect(text(lastAssistant(conversation.messages))).toBe("I am Ada.");
    expect(new InflightStorage(storage).all()).toEqual([]);
  });

  it("after a reload, replays the in-flight run into the session's history exactly once", async () => {
    const storage = memoryStorage();
    new InflightStorage(storage).save({ tenantId, agent: "ada", runId: "r2", lastSeq: 2, sessionKey: "s1", userText: "Again?" });
    const history: OwnedSessionHistory = {
      owner: { type: "user", id: "me", email: "me@example.com" },
      session: {
        key: "s1",
        sessionId: "id1",
        title: "Hi",
        createdAt: "2025-01-01T00:00:00.000Z",
        updatedAt: "2025-01-01T00:00:00.000Z",
        model: null,
        inputTokens: 0,
        outputTokens: 0,
        messageCount: 2,
        lastMessagePreview: "",
      },
      entries: [
        { type: "user", id: "u1", parentId: null, timestamp: "t", runId: "r1", content: [{ type: "text", text: "Hi" }] },
        {
          type: "assistant",
          id: "a1",
          parentId: "u1",
          timestamp: "t",
          runId: "r1",
          content: [{ type: "text", text: "Hello!" }],
          model: { provider: "offline", id: "offline", offline: true },
          usage: { inputTokens: 1, outputTokens: 1 },
          stopReason: "end_turn",
        },
        { type: "user", id: "u2", parentId: "a1", timestamp: "t", runId: "r2", content: [{ type: "text", text: "Again?" }] },
      ],
    };
    const events = scriptedRun("r2", ["Still", " here"]);
    const chat = createChatStore({
      api: fakeApi({
        getSession: async () => history,
        runEvents: async (_runId, lastSeq) => {
          expect(lastSeq).toBe(0);
          return sseResponse(events);
        },
      }),
      tenantId: () => tenantId,
      inflight: new InflightStorage(storage),
      policy,
    });
    expect(await chat.resume("ada")).toBe(true);
    const messages = chat.getConversation("ada").messages;
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(text(lastAssistant(messages))).toBe("Still here");
    expect(await chat.resume("ada")).toBe(false);
  });

  it("shows an HTTP error from the platform with its code", async () => {
    const chat = createChatStore({
      api: fakeApi({
        sendMessage: async () => {
          throw new ApiError("agent_not_found", "No agent named ghost", 404);
        },
      }),
      tenantId: () => tenantId,
      inflight: new InflightStorage(memoryStorage()),
      policy,
    });
    await chat.send("ghost", "hello");
    expect(lastAssistant(chat.getConversation("ghost").messages)).toMatchObject({
      status: "error",
      error: { code: "agent_not_found", message: "No agent named ghost" },
    });
  });
});
