import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import type { ApiClient } from "../api/client";
import { createChatStore } from "./chat-store";
import type { AssistantMessage, ChatMessage } from "./chat-types";
import { InflightStorage } from "./inflight-storage";
import { MessageView } from "./message-view";
import { memoryStorage, scriptedRun, sseResponse } from "./test-support";

const tenantId = "00000000-0000-4000-8000-000000000001";
const policy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, idleTimeoutMs: 500 };
const reply = (messages: readonly ChatMessage[]) => messages.at(-1) as AssistantMessage;

describe("a reply cut off by its gateway dying", () => {
  it("ends run_interrupted, reads as an interruption beside Retry, and Retry sends the message again to a normal reply", async () => {
    const cut = scriptedRun("r1", ["Once", " upon"]).slice(0, 3);
    cut.push({
      type: "run-end",
      runId: "r1",
      seq: 4,
      status: "error",
      usage: { inputTokens: 0, outputTokens: 0 },
      error: { code: "run_interrupted", message: "The gateway running this reply stopped before it finished", retryable: true },
      at: "2025-01-01T00:00:02.000Z",
    });
    const sent: string[] = [];
    const api: Partial<ApiClient> = {
      sendMessage: async (_agent, input) => {
        sent.push(input.message);
        // The first stream drops mid-reply; resuming it finds the run ended run_interrupted.
        return sent.length === 1 ? sseResponse(cut, { cutAfter: 3, runId: "r1" }) : sseResponse(scriptedRun("r2", ["Here", " it is"]), { runId: "r2" });
      },
      runEvents: async (_runId, lastSeq) => sseResponse(cut.filter((event) => event.seq > lastSeq)),
    };
    const chat = createChatStore({ api: api as ApiClient, tenantId: () => tenantId, inflight: new InflightStorage(memoryStorage()), policy });
    await chat.send("ada", "Tell me a story");
    const interrupted = reply(chat.getConversation("ada").messages);
    expect(interrupted).toMatchObject({ status: "error", error: { code: "run_interrupted" } });
    const html = renderToStaticMarkup(<MessageView message={interrupted} onRetry={() => undefined} />);
    expect(html).toContain('data-testid="interrupted"');
    expect(html).toContain("Reply interrupted.");
    expect(html).not.toContain("error-code");
    expect(html).toContain("Retry");

    await chat.retry("ada");
    expect(sent).toEqual(["Tell me a story", "Tell me a story"]);
    const messages = chat.getConversation("ada").messages;
    expect(messages.map((message) => message.role)).toEqual(["user", "assistant"]);
    expect(reply(messages)).toMatchObject({ status: "ok", parts: [{ type: "text", text: "Here it is" }] });
  });
});
