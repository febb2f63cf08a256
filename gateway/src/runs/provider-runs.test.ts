import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { SessionHistory } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createProviders } from "../llm/create-providers";
import { readRunEvents, replyText, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";

let upstream: FakeUpstream;
let harness: TestGateway | undefined;
beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
  upstream.reset();
});

async function gatewayWithProviders() {
  const providers = createProviders({
    anthropic: { apiKey: "test-key", baseURL: upstream.url },
    openai: { baseURL: upstream.openaiBaseUrl, apiKey: "test-key" },
  });
  return startTestGateway({ providers, config: { defaultModel: "claude-fake-1" } });
}

async function send(h: TestGateway, message: string, agent = "ada") {
  return readRunEvents(await h.request("POST", `/v1/agents/${agent}/runs`, { body: { message, sessionKey: "s" }, headers: { accept: "text/event-stream" } }));
}

describe("runs against real providers (fake upstream, real SDK)", () => {
  it("streams a Claude reply through the Anthropic SDK and a tool round trip", async () => {
    harness = await gatewayWithProviders();
    await harness.createAgent(TENANT_A);
    upstream.enqueue({ kind: "tool_use", name: "append_memory", input: { note: "likes tea" } }, { kind: "text", text: "Noted that you like tea." });
    const events = await send(harness, "Remember I like tea");
    expect(events[0]).toMatchObject({ type: "run-start", model: { provider: "anthropic", id: "claude-fake-1", offline: false } });
    expect(replyText(events)).toBe("Noted that you like tea.");
    expect(events.find((event) => event.type === "tool-call-end")).toMatchObject({ name: "append_memory", isError: false });
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const second = upstream.requests[1]!.body as { messages: { role: string; content: { type: string }[] }[]; system: string };
    expect(second.system).toContain("**Name:** Ada");
    expect(second.messages.at(-1)?.content[0]?.type).toBe("tool_result");
  });

  it("keeps the partial reply, marked interrupted, when Claude overloads mid-stream", async () => {
    harness = await gatewayWithProviders();
    await harness.createAgent(TENANT_A);
    upstream.enqueue({ kind: "overloaded-mid-stream", afterTokens: 2, text: "alpha beta gamma delta" });
    const events = await send(harness, "Go");
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "provider_overloaded" } });
    const partial = replyText(events);
    expect(partial.length).toBeGreaterThan(0);
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s")).json());
    expect(history.entries.at(-1)).toMatchObject({ type: "assistant", content: [{ type: "text", text: partial }], interrupted: { code: "provider_overloaded" } });
  });

  it("fails with provider_auth_failed on a rejected key, with a human message", async () => {
    harness = await gatewayWithProviders();
    await harness.createAgent(TENANT_A);
    upstream.enqueue({ kind: "status", status: 401 });
    const events = await send(harness, "Hi");
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "error", error: { code: "provider_auth_failed" } });
    if (end?.type === "run-end") expect(end.error?.message).toContain("ANTHROPIC_API_KEY");
  });

  it("routes openai:<model> agents to the OpenAI-compatible endpoint", async () => {
    harness = await gatewayWithProviders();
    await harness.createAgent(TENANT_A, { model: "openai:gpt-fake-1" });
    upstream.enqueue({ kind: "text", text: "Hello from the compatible side." });
    const events = await send(harness, "Hi");
    expect(events[0]).toMatchObject({ type: "run-start", model: { provider: "openai-compatible", id: "gpt-fake-1", offline: false } });
    expect(replyText(events)).toBe("Hello from the compatible side.");
    expect(upstream.requests[0]!.path).toBe("/v1/chat/completions");
  });
});
