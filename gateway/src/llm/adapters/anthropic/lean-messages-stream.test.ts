import Anthropic from "@anthropic-ai/sdk";
import { startFakeUpstream, type FakeUpstream, type ScriptedResponse } from "@workforce/fake-upstream";
import { AppError } from "@workforce/protocol";
import { describe, expect, it, vi } from "vitest";
import { collectParts as collect, fakeUpstreamForSuite, rawSseEndpoint } from "../../../test-support/model-stream";
import type { ModelRequest, ModelStreamPart } from "../../model-provider";
import { createAnthropicProvider } from "./anthropic-provider";
import { messagesUrl } from "./lean-messages-stream";

const fake = fakeUpstreamForSuite();

const viaSdk = (input: string | URL | Request, init?: RequestInit) => fetch(input, init);

/** No retries here: each failure is the adapter's own, as the run would see it on its last attempt. */
function lean(options: { apiKey?: string; baseURL?: string; timeoutMs?: number } = {}) {
  return createAnthropicProvider({ apiKey: options.apiKey ?? "test-key", baseURL: options.baseURL ?? fake.current.url, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
}
function sdk(options: { apiKey?: string; baseURL?: string; timeoutMs?: number } = {}) {
  return createAnthropicProvider({ apiKey: options.apiKey ?? "test-key", baseURL: options.baseURL ?? fake.current.url, fetch: viaSdk, ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) });
}

function request(overrides: Partial<ModelRequest> = {}): ModelRequest {
  return {
    model: "claude-fake-1",
    system: "You are Ada.",
    messages: [{ role: "user", content: [{ type: "text", text: "Who are you?" }] }],
    tools: [],
    maxOutputTokens: 256,
    signal: new AbortController().signal,
    ...overrides,
  };
}

/** What a client and the retry policy see of a failure; request ids differ per request, so they are blanked. */
function seen(error: unknown) {
  if (!(error instanceof AppError)) return { notAnAppError: String(error) };
  return { code: error.code, message: error.message.replace(/req_fake_\d+/g, "req_id"), retryable: error.retryable, headers: error.headers };
}

describe("lean Anthropic path: failures are the SDK path's, code for code and message for message", () => {
  const cases: { name: string; code: string; script?: ScriptedResponse; apiKey?: string }[] = [
    { name: "401 wrong key", code: "provider_auth_failed", apiKey: "wrong-key" },
    { name: "403 forbidden", code: "provider_auth_failed", script: { kind: "status", status: 403 } },
    { name: "404 unknown model", code: "provider_error", script: { kind: "status", status: 404, message: "model: claude-nope" } },
    { name: "429 with retry-after", code: "provider_rate_limited", script: { kind: "status", status: 429, retryAfterSeconds: 7 } },
    { name: "500", code: "provider_error", script: { kind: "status", status: 500 } },
    { name: "529 overloaded", code: "provider_overloaded", script: { kind: "status", status: 529, retryAfterSeconds: 2 } },
    { name: "a non-JSON error body", code: "provider_error", script: { kind: "status", status: 502, body: "<html>bad gateway</html>" } },
    { name: "error event mid-stream", code: "provider_overloaded", script: { kind: "overloaded-mid-stream", afterTokens: 2, text: "one two three four" } },
    { name: "connection reset mid-stream", code: "provider_error", script: { kind: "reset-mid-stream", afterTokens: 2, text: "one two three four" } },
    { name: "malformed event JSON", code: "provider_error", script: { kind: "malformed", afterTokens: 1, text: "one two three" } },
  ];

  it.each(cases)("$name → $code", async ({ code, script, apiKey }) => {
    const outcomes = [];
    for (const provider of [lean({ apiKey }), sdk({ apiKey })]) {
      if (script) fake.current.enqueue(script);
      outcomes.push(await collect(provider.stream(request())));
    }
    const [viaLean, viaSdkPath] = outcomes as [Awaited<ReturnType<typeof collect>>, Awaited<ReturnType<typeof collect>>];
    expect(seen(viaLean.error)).toMatchObject({ code });
    expect(seen(viaLean.error)).toEqual(seen(viaSdkPath.error));
    // The text that streamed before a mid-stream failure is the same too.
    expect(viaLean.parts).toEqual(viaSdkPath.parts);
  });

  it("429 and 529 carry the retry-after the retry policy honours", async () => {
    fake.current.enqueue({ kind: "status", status: 429, retryAfterSeconds: 7 });
    expect((await collect(lean().stream(request()))).error).toMatchObject({ code: "provider_rate_limited", retryable: true, headers: { "retry-after": "7" } });
  });

  it("connection refused → provider_unreachable on both paths, the endpoint only on the cause", async () => {
    const [viaLean, viaSdkPath] = [await collect(lean({ baseURL: "http://127.0.0.1:1" }).stream(request())), await collect(sdk({ baseURL: "http://127.0.0.1:1" }).stream(request()))];
    expect(seen(viaLean.error)).toMatchObject({ code: "provider_unreachable", retryable: true });
    expect(seen(viaLean.error)).toEqual(seen(viaSdkPath.error));
    expect((viaLean.error as AppError).message).not.toContain("127.0.0.1");
    expect(String((viaLean.error as AppError).cause)).toContain("127.0.0.1:1");
  });

  it("an endpoint that accepts but never answers times out as provider_unreachable, as the SDK's timeout does", async () => {
    const silent = await rawSseEndpoint(undefined);
    try {
      const baseURL = silent.url;
      const [viaLean, viaSdkPath] = await Promise.all([collect(lean({ baseURL, timeoutMs: 150 }).stream(request())), collect(sdk({ baseURL, timeoutMs: 150 }).stream(request()))]);
      expect(seen(viaLean.error)).toMatchObject({ code: "provider_unreachable" });
      expect(seen(viaLean.error)).toEqual(seen(viaSdkPath.error));
    } finally {
      await silent.close();
    }
  });

  it("a stream that ends cleanly without message_stop is a failure, not a short reply", async () => {
    const cut = await rawSseEndpoint(
      [
          `event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"claude-fake-1","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"output_tokens":1}}}\n\n`,
          `event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n`,
          `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Half a"}}\n\n`,
      ].join(""),
    );
    try {
      const baseURL = cut.url;
      const viaLean = await collect(lean({ baseURL }).stream(request()));
      const viaSdkPath = await collect(sdk({ baseURL }).stream(request()));
      expect(viaLean.parts).toEqual([{ type: "text-delta", text: "Half a" }]);
      expect(seen(viaLean.error)).toMatchObject({ code: "provider_error" });
      expect(seen(viaLean.error)).toEqual(seen(viaSdkPath.error));
    } finally {
      await cut.close();
    }
  });
});

describe("lean Anthropic path on the wire", () => {
  // A fake of their own: the shared keep-alive pool may hold idle sockets to the suite's fake.
  it("reuses one keep-alive connection for sequential requests, errors included", async () => {
    await withOwnUpstream(async (own) => {
      const provider = lean({ baseURL: own.url });
      own.enqueue({ kind: "text", text: "one" }, { kind: "status", status: 500 }, { kind: "text", text: "three" });
      for (let index = 0; index < 3; index += 1) await collect(provider.stream(request()));
      expect(own.requests).toHaveLength(3);
      expect(own.connections).toBe(1);
    });
  });

  it("an abort mid-stream ends the stream promptly, as the SDK's does, and closes its connection; the next request still works", async () => {
    await withOwnUpstream(async (own) => {
      const abortAfterFirstDelta = async (provider: ReturnType<typeof lean>) => {
        const controller = new AbortController();
        own.enqueue({ kind: "stall", afterTokens: 2, text: "one two three four" });
        const parts: ModelStreamPart[] = [];
        for await (const part of provider.stream(request({ signal: controller.signal }))) {
          parts.push(part);
          if (part.type === "text-delta") controller.abort();
        }
        return parts;
      };
      const viaLean = await abortAfterFirstDelta(lean({ baseURL: own.url }));
      // The deltas already received (the stall's first chunk), then the finish; nothing after the abort.
      expect(viaLean.map((part) => part.type)).toEqual(["text-delta", "text-delta", "finish"]);
      await vi.waitFor(() => expect(own.openConnections).toBe(0));
      expect(viaLean).toEqual(await abortAfterFirstDelta(sdk({ baseURL: own.url })));
      own.enqueue({ kind: "text", text: "after the abort" });
      const next = await collect(lean({ baseURL: own.url }).stream(request()));
      expect(next.parts.at(-1)).toMatchObject({ type: "finish", stopReason: "end_turn" });
    });
  });

  it("serves more concurrent streams to one host than any socket cap: 600 held replies all stream at once", async () => {
    // A gateway may run up to 10,000 runs at once (WORKFORCE_MAX_CONCURRENT_RUNS): a per-host
    // socket cap (it was 512) left every run beyond it waiting, silently, for another reply to end.
    await withOwnUpstream(async (own) => {
      const streams = 600;
      for (let index = 0; index < streams; index += 1) own.enqueue({ kind: "stall", afterTokens: 1, stallMs: 120_000, text: "first then held" });
      const controller = new AbortController();
      const provider = lean({ baseURL: own.url });
      // Each stream keeps reading (and holding its socket) until every one has had its first delta.
      let arrived = 0;
      let allArrived!: () => void;
      const everyone = new Promise<void>((resolve) => (allArrived = resolve));
      const firstDeltas = Array.from({ length: streams }, async () => {
        for await (const part of provider.stream(request({ signal: controller.signal }))) {
          if (part.type !== "text-delta") continue;
          arrived += 1;
          if (arrived === streams) allArrived();
          await everyone;
          return true;
        }
        return false;
      });
      try {
        await everyone;
        expect(own.openConnections).toBe(streams);
        await expect(Promise.all(firstDeltas)).resolves.toEqual(Array.from({ length: streams }, () => true));
      } finally {
        controller.abort();
      }
    });
  }, 60_000);

  it("a consumer that stops reading releases the connection", async () => {
    await withOwnUpstream(async (own) => {
      own.enqueue({ kind: "stall", afterTokens: 1, text: "one two" });
      for await (const part of lean({ baseURL: own.url }).stream(request())) if (part.type === "text-delta") break;
      await vi.waitFor(() => expect(own.openConnections).toBe(0));
    });
  });

  it("keeps a stream through a pause longer than the idle-socket timeout (a model thinking)", async () => {
    fake.current.enqueue({ kind: "stall", afterTokens: 1, stallMs: 4_500, text: "one two three" });
    const { parts, error } = await collect(lean().stream(request()));
    expect(error).toBeUndefined();
    expect(parts.filter((part) => part.type === "text-delta")).toHaveLength(3);
    expect(parts.at(-1)).toMatchObject({ type: "finish", stopReason: "end_turn" });
  }, 15_000);

  it("sends the same body as the SDK, images, tool calls and results and unicode intact, with the headers the API needs", async () => {
    const rich = request({
      system: "Réponds en français — 日本語も OK 👩🏽‍💻",
      messages: [
        { role: "user", content: [{ type: "text", text: "Look: e\u0301 ✓ 🧪" }, { type: "image", mediaType: "image/png", data: "iVBORw0KGgo=" }] },
        { role: "assistant", content: [{ type: "tool-call", toolCallId: "toolu_9", name: "read_file", input: { path: "notes/ü.md" } }] },
        { role: "user", content: [{ type: "tool-result", toolCallId: "toolu_9", name: "read_file", output: "line 1\n\"quoted\" \u2028 end", isError: false }] },
      ],
      tools: [{ name: "read_file", description: "Read a file", inputSchema: { properties: { path: { type: "string" } } } }],
    });
    await collect(lean().stream(rich));
    await collect(sdk().stream(rich));
    const [viaLean, viaSdkPath] = fake.current.requests;
    expect(viaLean?.body).toEqual(viaSdkPath?.body);
    expect(viaLean?.body).toMatchObject({ system: rich.system, messages: [{ content: [{ text: "Look: e\u0301 ✓ 🧪" }, { source: { data: "iVBORw0KGgo=" } }] }, {}, {}], stream: true });
    expect(viaLean?.headers).toMatchObject({ "x-api-key": "test-key", "anthropic-version": "2023-06-01", "content-type": "application/json" });
    expect(Number(viaLean?.headers["content-length"])).toBe(Buffer.byteLength(JSON.stringify(viaLean?.body)));
  });

  it("joins the base URL exactly as the SDK does (trailing slash, path prefix, /v1 kept as given)", async () => {
    for (const base of ["http://127.0.0.1:9", "http://127.0.0.1:9/", "https://proxy.example/anthropic", "https://proxy.example/anthropic/", "http://127.0.0.1:9/v1"]) {
      expect(messagesUrl(base).href).toBe(new Anthropic({ apiKey: "k", baseURL: base }).buildURL("/v1/messages", undefined));
    }
    fake.current.enqueue({ kind: "text", text: "slash" });
    const { parts } = await collect(lean({ baseURL: `${fake.current.url}/` }).stream(request()));
    expect(parts.at(-1)).toMatchObject({ type: "finish" });
    expect(fake.current.requests[0]?.path).toBe("/v1/messages");
  });

  it("counts cache writes and reads as input tokens, as the SDK path does", async () => {
    const usage = await rawSseEndpoint(
      [
          `event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":3,"cache_creation_input_tokens":40,"cache_read_input_tokens":500,"output_tokens":1}}}\n\n`,
          `event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":9}}\n\n`,
          `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
      ].join(""),
    );
    try {
      const baseURL = usage.url;
      const viaLean = await collect(lean({ baseURL }).stream(request()));
      const viaSdkPath = await collect(sdk({ baseURL }).stream(request()));
      expect(viaLean.parts).toEqual([{ type: "finish", stopReason: "end_turn", usage: { inputTokens: 543, outputTokens: 9 } }]);
      expect(viaLean.parts).toEqual(viaSdkPath.parts);
    } finally {
      await usage.close();
    }
  });
});

async function withOwnUpstream(use: (own: FakeUpstream) => Promise<void>): Promise<void> {
  const own = await startFakeUpstream({ apiKey: "test-key" });
  try {
    await use(own);
  } finally {
    await own.close();
  }
}
