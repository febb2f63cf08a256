import { afterEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream, type FakeUpstreamOptions } from "./index";

const anthropicHeaders = { "x-api-key": "test-key", "anthropic-version": "2023-06-01", "content-type": "application/json" };
let fake: FakeUpstream | undefined;

async function start(options?: FakeUpstreamOptions): Promise<FakeUpstream> {
  fake = await startFakeUpstream(options);
  return fake;
}
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function postMessages(server: FakeUpstream, content: string, extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}/v1/messages`, {
    method: "POST",
    headers: anthropicHeaders,
    body: JSON.stringify({ model: "claude-fake-1", max_tokens: 64, messages: [{ role: "user", content }], ...extra }),
    ...(signal ? { signal } : {}),
  });
}

/** Reads a stream, returning each chunk's arrival time relative to the start. */
async function readTimed(response: Response): Promise<{ text: string; arrivals: number[] }> {
  const started = performance.now();
  const decoder = new TextDecoder();
  let text = "";
  const arrivals: number[] = [];
  for await (const chunk of response.body!) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    arrivals.push(performance.now() - started);
  }
  return { text, arrivals };
}

describe("startFakeUpstream", () => {
  it("listens on a free loopback port and exposes both base URLs", async () => {
    const server = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.openaiBaseUrl).toBe(`${server.url}/v1`);
    expect(server.port).toBeGreaterThan(0);
  });

  it("spaces deltas by tokenDelayMs and writes everything at once without it", async () => {
    const slow = await start({ tokens: 4, tokenDelayMs: 15, text: "abcdefgh" });
    const timed = await readTimed(await postMessages(slow, "x", { stream: true }));
    expect(timed.arrivals.at(-1)).toBeGreaterThanOrEqual(4 * 15 - 5);
    expect(timed.arrivals.length).toBeGreaterThanOrEqual(4);
    slow.configure({ tokenDelayMs: 0 });
    const fast = await readTimed(await postMessages(slow, "x", { stream: true }));
    expect(fast.text).toContain("message_stop");
    expect(fast.arrivals.at(-1)).toBeLessThan(15);
  });

  it("consumes the queue in order, then falls back to respond(), then to the echo", async () => {
    const server = await start({ respond: (request) => (request.lastUserText === "custom" ? { kind: "text", text: "from respond" } : undefined) });
    server.setScript([{ kind: "text", text: "first" }, { kind: "text", text: "second" }]);
    server.enqueue({ kind: "status", status: 500 });
    expect(server.pending).toBe(3);
    const texts: unknown[] = [];
    for (const content of ["a", "b", "c", "custom", "plain"]) {
      const response = await postMessages(server, content);
      const body = (await response.json()) as { content?: Array<{ text: string }>; error?: { type: string } };
      texts.push(body.content?.[0]?.text ?? `${response.status} ${body.error?.type}`);
    }
    expect(texts).toEqual(["first", "second", "500 api_error", "from respond", "Echo: plain"]);
    expect(server.pending).toBe(0);
  });

  it("shows respond() the system prompt in either protocol, so a harness can tell one kind of request from another", async () => {
    const seen: string[] = [];
    const server = await start({ respond: (request) => { seen.push(`${request.protocol}: ${request.systemText}`); return undefined; } });
    await postMessages(server, "a", { system: "Plain prompt." });
    await postMessages(server, "b", { system: [{ type: "text", text: "Block one." }, { type: "text", text: "Block two." }] });
    await postMessages(server, "c");
    await fetch(`${server.openaiBaseUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer test-key", "content-type": "application/json" },
      body: JSON.stringify({ model: "gpt-fake-1", messages: [{ role: "system", content: "Be brief." }, { role: "developer", content: [{ type: "text", text: "Be kind." }] }, { role: "user", content: "d" }] }),
    });
    expect(seen).toEqual(["anthropic: Plain prompt.", "anthropic: Block one.\nBlock two.", "anthropic: ", "openai: Be brief.\nBe kind."]);
  });

  it("does not consume scripted replies for rejected requests", async () => {
    const server = await start();
    server.enqueue({ kind: "text", text: "kept" });
    const missingVersion = await fetch(`${server.url}/v1/messages`, {
      method: "POST",
      headers: { "x-api-key": "test-key" },
      body: JSON.stringify({ model: "m", max_tokens: 1, messages: [{ role: "user", content: "hi" }] }),
    });
    const missingMaxTokens = await postMessages(server, "hi", { max_tokens: undefined });
    expect(missingVersion.status).toBe(400);
    expect(await missingMaxTokens.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error", message: expect.stringContaining("max_tokens") } });
    expect(server.pending).toBe(1);
  });

  it("reset() clears requests, the queue and runtime defaults", async () => {
    const server = await start({ text: "start text" });
    server.enqueue({ kind: "text", text: "queued" });
    server.configure({ text: "changed" });
    await postMessages(server, "x");
    const requests = server.requests;
    server.reset();
    expect(requests).toHaveLength(0);
    expect(server.pending).toBe(0);
    const body = (await (await postMessages(server, "x")).json()) as { content: Array<{ text: string }> };
    expect(body.content[0]?.text).toBe("start text");
  });

  it("can run without recording requests", async () => {
    const server = await start({ recordRequests: false });
    await postMessages(server, "x");
    expect(server.requests).toHaveLength(0);
  });

  it("holds a stalled stream and resumes it after stallMs", async () => {
    const server = await start({ text: "one two three" });
    server.enqueue({ kind: "stall", afterTokens: 1, stallMs: 40 });
    const timed = await readTimed(await postMessages(server, "x", { stream: true }));
    expect(timed.text).toContain("message_stop");
    expect(timed.arrivals.at(-1)).toBeGreaterThanOrEqual(35);
  });

  it("close() ends a stream stalled forever", async () => {
    const server = await start();
    server.enqueue({ kind: "stall", afterTokens: 1 });
    const response = await postMessages(server, "x y z", { stream: true });
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value as Uint8Array)).toContain("message_start");
    await server.close();
    fake = undefined;
    await expect(reader.read()).rejects.toThrow();
  });

  it("maps faults onto non-streaming requests", async () => {
    const server = await start();
    server.enqueue(
      { kind: "overloaded-mid-stream", afterTokens: 1 },
      { kind: "malformed", afterTokens: 1 },
      { kind: "reset-mid-stream", afterTokens: 1 },
    );
    const overloaded = await postMessages(server, "x");
    expect(overloaded.status).toBe(529);
    expect(await overloaded.json()).toMatchObject({ type: "error", error: { type: "overloaded_error" } });
    const malformed = await postMessages(server, "x");
    expect(malformed.status).toBe(200);
    await expect(malformed.json()).rejects.toThrow(SyntaxError);
    await expect(postMessages(server, "x")).rejects.toThrow();
  });

  it("answers unknown routes with a 404 in the client's protocol", async () => {
    const server = await start();
    const anthropic = await fetch(`${server.url}/v1/unknown`, { headers: anthropicHeaders });
    const openai = await fetch(`${server.url}/v1/unknown`);
    expect(anthropic.status).toBe(404);
    expect(await anthropic.json()).toMatchObject({ type: "error", error: { type: "not_found_error" } });
    expect(await openai.json()).toMatchObject({ error: { type: "invalid_request_error" } });
  });

  it("accepts any key when apiKey is null but still requires one", async () => {
    const server = await start({ apiKey: null });
    const any = await fetch(`${server.url}/v1/models`, { headers: { authorization: "Bearer whatever" } });
    const none = await fetch(`${server.url}/v1/models`);
    expect(any.status).toBe(200);
    expect(none.status).toBe(401);
  });

  it("accepts each of several keys and refuses any other with the provider's real 401 body", async () => {
    const server = await start({ apiKey: ["sk-operator", "sk-organisation"] });
    const chat = (key: string) =>
      fetch(`${server.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        body: JSON.stringify({ model: "gpt-fake-1", messages: [{ role: "user", content: "hi" }] }),
      });
    expect((await chat("sk-operator")).status).toBe(200);
    expect((await chat("sk-organisation")).status).toBe(200);
    const refused = await chat("sk-someone-else");
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_api_key" } });
    expect(server.requests.map((request) => request.headers.authorization)).toEqual(["Bearer sk-operator", "Bearer sk-organisation", "Bearer sk-someone-else"]);
  });
});
