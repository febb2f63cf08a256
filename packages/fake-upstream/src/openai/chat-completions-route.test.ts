import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startFakeUpstream, type FakeUpstream } from "../index";
import { readDataLines } from "./read-data-lines";

let fake: FakeUpstream;
let client: OpenAI;
const user = (content: string) => ({ role: "user" as const, content });

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: "sk-good" });
  client = new OpenAI({ baseURL: fake.openaiBaseUrl, apiKey: "sk-good", maxRetries: 0 });
});
afterAll(() => fake.close());
beforeEach(() => fake.reset());

function post(body: unknown, key = "sk-good"): Promise<Response> {
  return fetch(`${fake.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("OpenAI chat completions over plain fetch", () => {
  it("streams content deltas, a finish_reason chunk, a usage chunk and [DONE]", async () => {
    fake.enqueue({ kind: "text", text: "Hello from the fake", tokens: 4 });
    const response = await post({ model: "gpt-fake-1", stream: true, stream_options: { include_usage: true }, messages: [user("hi")] });
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const lines = await readDataLines(response);
    const chunks = lines.flatMap((line) => (line.done ? [] : [line.json as OpenAI.ChatCompletionChunk]));
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    expect(content).toBe("Hello from the fake");
    expect(chunks.filter((chunk) => chunk.choices[0]?.delta.content)).toHaveLength(4);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: 4 } });
    expect(chunks.every((chunk) => chunk.object === "chat.completion.chunk" && chunk.model === "gpt-fake-1")).toBe(true);
    expect(lines.at(-1)).toEqual({ done: true });
  });

  it("omits the usage chunk unless stream_options.include_usage is set", async () => {
    const lines = await readDataLines(await post({ model: "m", stream: true, messages: [user("hi")] }));
    const chunks = lines.flatMap((line) => (line.done ? [] : [line.json as Record<string, unknown>]));
    expect(chunks.some((chunk) => "usage" in chunk)).toBe(false);
    expect(lines.at(-1)).toEqual({ done: true });
  });

  it("answers a non-streaming request with a ChatCompletion", async () => {
    const response = await post({ model: "gpt-fake-1", messages: [{ role: "system", content: "be brief" }, user("ping")] });
    const body = (await response.json()) as OpenAI.ChatCompletion;
    expect(response.status).toBe(200);
    expect(body).toMatchObject({
      object: "chat.completion",
      model: "gpt-fake-1",
      choices: [{ index: 0, message: { role: "assistant", content: "Echo: ping" }, finish_reason: "stop" }],
    });
    expect(body.usage!.total_tokens).toBe(body.usage!.prompt_tokens + body.usage!.completion_tokens);
  });

  it("rejects a wrong bearer token with the OpenAI 401 body", async () => {
    const response = await post({ model: "m", messages: [user("hi")] }, "sk-bad");
    expect(response.status).toBe(401);
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    expect(await response.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_api_key" } });
  });

  it("rejects a body without messages with a 400", async () => {
    const response = await post({ model: "m" });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining("messages") } });
  });
});

describe("OpenAI chat completions through the real openai client", () => {
  it("streams tool_calls deltas the client reassembles", async () => {
    fake.enqueue({ kind: "tool_use", name: "get_weather", input: { city: "Paris" }, parallel: [{ name: "get_time", input: { zone: "CET" } }] });
    const completion = await client.chat.completions
      .stream({ model: "gpt-fake-1", messages: [user("weather?")], tools: [{ type: "function", function: { name: "get_weather" } }] })
      .finalChatCompletion();
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    const calls = choice.message.tool_calls!.map((call) => (call.type === "function" ? call.function : undefined));
    expect(calls).toEqual([
      expect.objectContaining({ name: "get_weather", arguments: '{"city":"Paris"}' }),
      expect.objectContaining({ name: "get_time", arguments: '{"zone":"CET"}' }),
    ]);
  });

  it("replies with the tool result after a tool message", async () => {
    const completion = await client.chat.completions.create({
      model: "gpt-fake-1",
      messages: [
        user("weather?"),
        { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "w", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "call_1", content: "sunny" },
      ],
    });
    expect(completion.choices[0]?.message.content).toBe("Tool result: sunny");
  });

  it("surfaces a wrong key as AuthenticationError and a 429 as RateLimitError", async () => {
    const wrong = new OpenAI({ baseURL: fake.openaiBaseUrl, apiKey: "sk-bad", maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: "m", messages: [user("hi")] })).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    fake.enqueue({ kind: "status", status: 429, retryAfterSeconds: 1 });
    await expect(client.chat.completions.create({ model: "m", messages: [user("hi")] })).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("throws after partial content when overloaded mid-stream", async () => {
    fake.enqueue({ kind: "overloaded-mid-stream", afterTokens: 2, text: "one two three" });
    const stream = await client.chat.completions.create({ model: "m", stream: true, messages: [user("hi")] });
    let content = "";
    const error = await (async () => {
      for await (const chunk of stream) content += chunk.choices[0]?.delta.content ?? "";
    })().catch((caught: unknown) => caught);
    expect(content).toBe("one two");
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(String(error)).toMatch(/Overloaded/);
  });

  it("lists models", async () => {
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).toEqual(["claude-fake-1", "gpt-fake-1"]);
  });
});
