import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../index";

let fake: FakeUpstream;
let client: Anthropic;
const user = (content: string): Anthropic.MessageParam => ({ role: "user", content });
const params = (content: string) => ({ model: "claude-fake-1", max_tokens: 256, messages: [user(content)] });

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: "sk-good" });
  client = new Anthropic({ baseURL: fake.url, apiKey: "sk-good", maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

describe("Anthropic Messages API through the real SDK", () => {
  it("streams scripted text in the requested number of deltas", async () => {
    fake.enqueue({ kind: "text", text: "The quick brown fox jumps.", tokens: 5, delayMs: 1 });
    const deltas: string[] = [];
    const stream = client.messages.stream(params("hi")).on("text", (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    expect(deltas).toHaveLength(5);
    expect(deltas.join("")).toBe("The quick brown fox jumps.");
    expect(message.content).toEqual([expect.objectContaining({ type: "text", text: "The quick brown fox jumps." })]);
    expect(message.stop_reason).toBe("end_turn");
    expect(message.model).toBe("claude-fake-1");
    expect(message.id).toMatch(/^msg_/);
  });

  it("echoes the last user message by default, streaming and not", async () => {
    const streamed = await client.messages.stream(params("hello there")).finalText();
    const plain = await client.messages.create(params("hello there"));
    expect(streamed).toBe("Echo: hello there");
    expect(plain.content).toEqual([expect.objectContaining({ type: "text", text: "Echo: hello there" })]);
  });

  it("reports usage in finalMessage()", async () => {
    fake.enqueue({ kind: "text", text: "a b c", usage: { inputTokens: 42, outputTokens: 7 } }, { kind: "text", text: "one two three" });
    const scripted = await client.messages.stream(params("x")).finalMessage();
    const estimated = await client.messages.stream(params("x")).finalMessage();
    expect(scripted.usage).toMatchObject({ input_tokens: 42, output_tokens: 7 });
    expect(estimated.usage.input_tokens).toBeGreaterThan(0);
    expect(estimated.usage.output_tokens).toBe(3);
  });

  it("streams a tool_use block whose input the SDK parses", async () => {
    fake.enqueue({ kind: "tool_use", name: "get_weather", input: { city: "Paris", days: [1, 2] }, text: "Checking." });
    const message = await client.messages
      .stream({ ...params("weather?"), tools: [{ name: "get_weather", input_schema: { type: "object" } }] })
      .finalMessage();
    expect(message.stop_reason).toBe("tool_use");
    expect(message.content[0]).toMatchObject({ type: "text", text: "Checking." });
    expect(message.content[1]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Paris", days: [1, 2] } });
    expect((message.content[1] as Anthropic.ToolUseBlock).id).toMatch(/^toolu_/);
  });

  it("returns parallel tool calls in a non-streaming Message", async () => {
    fake.enqueue({ kind: "tool_use", name: "a", input: { n: 1 }, id: "toolu_given", parallel: [{ name: "b", input: {} }] });
    const message = await client.messages.create(params("go"));
    expect(message.content.map((block) => block.type)).toEqual(["tool_use", "tool_use"]);
    expect(message.content[0]).toMatchObject({ id: "toolu_given", name: "a", input: { n: 1 } });
    expect(message.content[1]).toMatchObject({ name: "b", input: {} });
  });

  it("surfaces a wrong API key as AuthenticationError with a request id", async () => {
    const wrong = new Anthropic({ baseURL: fake.url, apiKey: "sk-bad", maxRetries: 0 });
    const error = await wrong.messages.create(params("hi")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Anthropic.AuthenticationError);
    expect(error).toMatchObject({ status: 401, type: "authentication_error", requestID: expect.stringMatching(/^req_/) });
  });

  it("retries a 429 after retry-after and succeeds on the next scripted reply", async () => {
    fake.enqueue({ kind: "status", status: 429, retryAfterSeconds: 0.01 }, { kind: "text", text: "after the limit" });
    const retrying = new Anthropic({ baseURL: fake.url, apiKey: "sk-good", maxRetries: 1 });
    const text = await retrying.messages.stream(params("hi")).finalText();
    expect(text).toBe("after the limit");
    expect(fake.requests).toHaveLength(2);
  });

  it("reports 429 and 529 as typed errors when retries are off", async () => {
    fake.enqueue({ kind: "status", status: 429, retryAfterSeconds: 3 }, { kind: "status", status: 529 });
    const limited = await client.messages.create(params("hi")).catch((caught: unknown) => caught);
    const overloaded = await client.messages.create(params("hi")).catch((caught: unknown) => caught);
    expect(limited).toBeInstanceOf(Anthropic.RateLimitError);
    expect((limited as InstanceType<typeof Anthropic.APIError>).headers?.get("retry-after")).toBe("3");
    expect(overloaded).toMatchObject({ status: 529, type: "overloaded_error" });
  });

  it("surfaces overloaded mid-stream as an error after partial text", async () => {
    fake.enqueue({ kind: "overloaded-mid-stream", afterTokens: 2, text: "one two three four" });
    const deltas: string[] = [];
    const stream = client.messages.stream(params("hi")).on("text", (delta) => deltas.push(delta));
    const error = await stream.finalMessage().catch((caught: unknown) => caught);
    expect(deltas.join("")).toBe("one two");
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ type: "overloaded_error", error: { error: { message: "Overloaded" } } });
  });

  it("drops the connection mid-stream on reset", async () => {
    fake.enqueue({ kind: "reset-mid-stream", afterTokens: 1, text: "alpha beta" });
    const deltas: string[] = [];
    const error = await client.messages
      .stream(params("hi"))
      .on("text", (delta) => deltas.push(delta))
      .finalMessage()
      .catch((caught: unknown) => caught);
    expect(deltas.join("")).toBe("alpha");
    // undici reports the half-finished chunked body as "terminated" (cause: SocketError "other side closed").
    expect(error).toBeInstanceOf(Anthropic.AnthropicError);
    expect(String(error)).toMatch(/terminated/);
  });

  it("sends an event with invalid JSON on malformed", async () => {
    const logged: unknown[] = [];
    const quiet = new Anthropic({
      baseURL: fake.url,
      apiKey: "sk-good",
      maxRetries: 0,
      logger: { error: (...args: unknown[]) => logged.push(args), warn: () => {}, info: () => {}, debug: () => {} },
    });
    fake.enqueue({ kind: "malformed", afterTokens: 1, text: "alpha beta" });
    const error = await quiet.messages.stream(params("hi")).finalMessage().catch((caught: unknown) => caught);
    expect(String(error)).toMatch(/JSON/);
    expect(logged.length).toBeGreaterThan(0);
  });

  it("records the model, system prompt and tools the client sent", async () => {
    await client.messages.create({
      ...params("hi"),
      model: "claude-special",
      system: "You are terse.",
      tools: [{ name: "lookup", description: "Looks up", input_schema: { type: "object" } }],
    });
    const [recorded] = fake.requests;
    expect(recorded).toMatchObject({ method: "POST", path: "/v1/messages", protocol: "anthropic" });
    expect(recorded!.headers["x-api-key"]).toBe("sk-good");
    expect(recorded!.body).toMatchObject({ model: "claude-special", system: "You are terse.", tools: [{ name: "lookup" }] });
  });

  it("lets out-of-process tests trigger faults and tools with magic tokens", async () => {
    const retrying = new Anthropic({ baseURL: fake.url, apiKey: "sk-good", maxRetries: 1 });
    // The backoff without retry-after is ~0.5 s, so ask for a short one in the token.
    const text = await retrying.messages.create(params("hello [[fault:429:0.01*1]]"));
    expect(text.content).toEqual([expect.objectContaining({ text: "Echo: hello" })]);
    expect(fake.requests).toHaveLength(2);

    const call = await client.messages.create(params('use it [[tool:get_weather:{"city":"Oslo"}]]'));
    expect(call.content[0]).toMatchObject({ type: "tool_use", name: "get_weather", input: { city: "Oslo" } });
    const id = (call.content[0] as Anthropic.ToolUseBlock).id;
    const followUp = await client.messages.create({
      ...params("x"),
      messages: [
        user('use it [[tool:get_weather:{"city":"Oslo"}]]'),
        { role: "assistant", content: call.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: id, content: "sunny" }] },
      ],
    });
    expect(followUp.stop_reason).toBe("end_turn");
    expect(followUp.content).toEqual([expect.objectContaining({ text: "Tool result: sunny" })]);
  });

  it("answers count_tokens and lists models", async () => {
    const counted = await client.messages.countTokens({ model: "claude-fake-1", messages: [user("hi")] });
    const models = await client.models.list();
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(models.data.map((model) => model.id)).toContain("claude-fake-1");
    expect(fake.pending).toBe(0);
  });
});
