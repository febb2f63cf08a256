import { AppError } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { collectParts as collect, fakeUpstreamForSuite } from "../../../test-support/model-stream";
import type { ModelRequest, ModelStreamPart } from "../../model-provider";
import { withRetries } from "../../with-retries";
import { createAnthropicProvider } from "./anthropic-provider";

const fake = fakeUpstreamForSuite();

/** Both streaming paths: the lean node:http one (the default) and the SDK one (taken when a fetch is given). */
const paths = [
  { path: "lean node:http path", fetch: undefined },
  { path: "SDK path", fetch: (input: string | URL | Request, init?: RequestInit) => fetch(input, init) },
] as const;

const sleeps: number[] = [];
function provider(viaFetch: typeof fetch | undefined, apiKey = "test-key") {
  return withRetries(createAnthropicProvider({ apiKey, baseURL: fake.current.url, ...(viaFetch ? { fetch: viaFetch } : {}) }), {
    maxAttempts: 3,
    baseDelayMs: 1,
    maxDelayMs: 5,
    maxRetryAfterMs: 5_000,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
}

function request(text = "Who are you?"): ModelRequest {
  return {
    model: "claude-fake-1",
    system: "You are Ada.",
    messages: [{ role: "user", content: [{ type: "text", text }] }],
    tools: [{ name: "read_file", description: "Read a file", inputSchema: { type: "object", properties: { path: { type: "string" } }, required: ["path"] } }],
    maxOutputTokens: 256,
    signal: new AbortController().signal,
  };
}

const text = (parts: ModelStreamPart[]) => parts.flatMap((part) => (part.type === "text-delta" ? [part.text] : [])).join("");

describe.each(paths)("anthropic provider, $path, against the fake upstream", ({ fetch: viaFetch }) => {
  it("streams text deltas and finishes with usage and stop reason", async () => {
    fake.current.enqueue({ kind: "text", text: "I'm Ada, an analyst.", tokens: 4, usage: { inputTokens: 12, outputTokens: 7 } });
    const { parts, error } = await collect(provider(viaFetch).stream(request()));
    expect(error).toBeUndefined();
    expect(text(parts)).toBe("I'm Ada, an analyst.");
    expect(parts.filter((part) => part.type === "text-delta").length).toBeGreaterThan(1);
    expect(parts.at(-1)).toEqual({ type: "finish", stopReason: "end_turn", usage: { inputTokens: 12, outputTokens: 7 } });
    const sent = fake.current.requests[0]!;
    expect(sent.body).toMatchObject({ model: "claude-fake-1", system: "You are Ada.", stream: true, tools: [{ name: "read_file" }] });
  });

  it("turns tool_use blocks into tool calls with parsed input", async () => {
    fake.current.enqueue({ kind: "tool_use", text: "Reading.", name: "read_file", input: { path: "notes.md" }, id: "toolu_1" });
    const { parts } = await collect(provider(viaFetch).stream(request()));
    expect(parts).toContainEqual({ type: "tool-call", toolCallId: "toolu_1", name: "read_file", input: { path: "notes.md" } });
    expect(parts.at(-1)).toMatchObject({ type: "finish", stopReason: "tool_use" });
  });

  it("retries 429 (honouring retry-after) and 529 before any token, then succeeds", async () => {
    sleeps.length = 0;
    fake.current.enqueue({ kind: "status", status: 429, retryAfterSeconds: 0.25 }, { kind: "status", status: 529 }, { kind: "text", text: "finally" });
    const { parts, error } = await collect(provider(viaFetch).stream(request()));
    expect(error).toBeUndefined();
    expect(text(parts)).toBe("finally");
    expect(fake.current.requests).toHaveLength(3);
    expect(sleeps[0]).toBe(250);
  });

  it("maps failures to specific codes", async () => {
    fake.current.enqueue({ kind: "status", status: 429 }, { kind: "status", status: 429 }, { kind: "status", status: 429 });
    expect((await collect(provider(viaFetch).stream(request()))).error).toMatchObject({ code: "provider_rate_limited" });

    expect((await collect(provider(viaFetch, "wrong-key").stream(request()))).error).toMatchObject({ code: "provider_auth_failed" });

    fake.current.enqueue({ kind: "status", status: 500 }, { kind: "status", status: 500 }, { kind: "status", status: 500 });
    expect((await collect(provider(viaFetch).stream(request()))).error).toMatchObject({ code: "provider_error" });

    const unreachable = createAnthropicProvider({ apiKey: "k", baseURL: "http://127.0.0.1:1", ...(viaFetch ? { fetch: viaFetch } : {}) });
    const failed = await collect(unreachable.stream(request()));
    expect(failed.error).toBeInstanceOf(AppError);
    expect(failed.error).toMatchObject({ code: "provider_unreachable" });
    // Clients read the message; the endpoint (an internal host, often) is only on the cause, for the log.
    expect((failed.error as AppError).message).not.toContain("127.0.0.1");
    expect(String((failed.error as AppError).cause)).toContain("127.0.0.1:1");
  });

  it("does not retry once text has streamed: an overloaded_error mid-stream fails with the partial text delivered", async () => {
    fake.current.enqueue({ kind: "overloaded-mid-stream", afterTokens: 2, text: "one two three four" }, { kind: "text", text: "should not be used" });
    const { parts, error } = await collect(provider(viaFetch).stream(request()));
    expect(error).toMatchObject({ code: "provider_overloaded" });
    expect(text(parts).length).toBeGreaterThan(0);
    expect(fake.current.requests).toHaveLength(1);
  });
});
