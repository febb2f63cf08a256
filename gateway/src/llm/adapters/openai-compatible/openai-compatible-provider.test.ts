import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { ModelRequest, ModelStreamPart } from "../../model-provider";
import { createOpenAiCompatibleProvider } from "./openai-compatible-provider";

let upstream: FakeUpstream;
beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
});
afterAll(async () => {
  await upstream.close();
});
beforeEach(() => upstream.reset());

function request(): ModelRequest {
  return {
    model: "gpt-fake-1",
    system: "You are Ada.",
    messages: [
      { role: "user", content: [{ type: "text", text: "Read my notes" }] },
      { role: "assistant", content: [{ type: "tool-call", toolCallId: "call_a", name: "read_file", input: { path: "a.md" } }] },
      { role: "user", content: [{ type: "tool-result", toolCallId: "call_a", name: "read_file", output: "milk", isError: false }] },
    ],
    tools: [{ name: "read_file", description: "Read a file", inputSchema: { type: "object", properties: { path: { type: "string" } } } }],
    maxOutputTokens: 128,
    signal: new AbortController().signal,
  };
}

async function collect(stream: AsyncIterable<ModelStreamPart>) {
  const parts: ModelStreamPart[] = [];
  try {
    for await (const part of stream) parts.push(part);
    return { parts, error: undefined as unknown };
  } catch (error) {
    return { parts, error };
  }
}

describe("openai-compatible provider against the fake upstream", () => {
  it("streams text, sends tool history in Chat Completions form, reports usage", async () => {
    upstream.enqueue({ kind: "text", text: "You need milk.", tokens: 3, usage: { inputTokens: 9, outputTokens: 3 } });
    const provider = createOpenAiCompatibleProvider({ baseURL: upstream.openaiBaseUrl, apiKey: "test-key" });
    const { parts, error } = await collect(provider.stream(request()));
    expect(error).toBeUndefined();
    expect(parts.flatMap((part) => (part.type === "text-delta" ? [part.text] : [])).join("")).toBe("You need milk.");
    expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "end_turn", usage: { inputTokens: 9, outputTokens: 3 } });
    const body = upstream.requests[0]!.body as { messages: { role: string }[] };
    expect(body.messages.map((message) => message.role)).toEqual(["system", "user", "assistant", "tool"]);
  });

  it("assembles streamed tool calls and maps errors", async () => {
    upstream.enqueue({ kind: "tool_use", name: "read_file", input: { path: "b.md" }, id: "call_b" });
    const provider = createOpenAiCompatibleProvider({ baseURL: upstream.openaiBaseUrl, apiKey: "test-key" });
    const { parts } = await collect(provider.stream(request()));
    expect(parts).toContainEqual({ type: "tool-call", toolCallId: "call_b", name: "read_file", input: { path: "b.md" } });
    expect(parts.at(-1)).toMatchObject({ type: "finish", stopReason: "tool_use" });

    upstream.enqueue({ kind: "status", status: 429, retryAfterSeconds: 1 });
    expect((await collect(provider.stream(request()))).error).toMatchObject({ code: "provider_rate_limited", retryable: true, headers: { "retry-after": "1" } });
    const wrongKey = createOpenAiCompatibleProvider({ baseURL: upstream.openaiBaseUrl, apiKey: "nope" });
    expect((await collect(wrongKey.stream(request()))).error).toMatchObject({ code: "provider_auth_failed" });
    const nowhere = createOpenAiCompatibleProvider({ baseURL: "http://127.0.0.1:1/v1" });
    const unreachable = (await collect(nowhere.stream(request()))).error;
    expect(unreachable).toMatchObject({ code: "provider_unreachable" });
    // Clients read the message; the endpoint and the network error are only on the cause, for the log.
    expect((unreachable as Error).message).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|fetch failed/);
    expect(String((unreachable as Error).cause)).toContain("127.0.0.1:1");
  });
});
