import OpenAI from "openai";
import { RunInfo, SessionHistory } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../../test-support/test-gateway";
import { startServer, type RunningServer } from "../start-server";

let harness: TestGateway | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  await harness?.cleanup();
  harness = undefined;
  server = undefined;
});

async function openaiClient(token = "hook-token") {
  harness = await startTestGateway({ hookToken: token });
  await harness.createAgent(TENANT_A);
  server = await startServer(harness.gateway.app, 0, "127.0.0.1");
  return new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, defaultHeaders: { "x-tenant-id": TENANT_A }, maxRetries: 0 });
}

describe("OpenAI-compatible /v1/chat/completions with the official openai client", () => {
  it("answers without streaming and continues the session named by X-Session-Key", async () => {
    const client = await openaiClient();
    const { data, response } = await client.chat.completions
      .create({ model: "agent:ada", messages: [{ role: "user", content: "Who are you?" }] }, { headers: { "x-session-key": "oa-1" } })
      .withResponse();
    expect(data.choices[0]?.message.content).toContain("I'm Ada, Research Analyst.");
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-session-key")).toBe("oa-1");
    await client.chat.completions.create({ model: "agent:ada", messages: [{ role: "user", content: "again" }] }, { headers: { "x-session-key": "oa-1" } });
    const history = SessionHistory.parse(await (await harness!.request("GET", "/v1/agents/ada/sessions/oa-1")).json());
    expect(history.session.messageCount).toBe(4);
  });

  it("streams chunks that concatenate to the reply, with usage", async () => {
    const client = await openaiClient();
    const stream = await client.chat.completions.create({
      model: "agent:ada",
      messages: [{ role: "user", content: "Who are you?" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(5);
    expect(text).toContain("I'm Ada, Research Analyst.");
    expect(usage?.total_tokens).toBeGreaterThan(0);
  });

  it("rejects unknown agents, bad models and a wrong key with errors the client surfaces", async () => {
    const client = await openaiClient();
    await expect(client.chat.completions.create({ model: "agent:ghost", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 404 });
    await expect(client.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 400 });
    await expect(
      client.chat.completions.create({ model: "agent:ada", messages: [{ role: "user", content: "hi" }] }, { headers: { "x-session-key": "../../etc" } }),
    ).rejects.toMatchObject({ status: 400, error: { code: "invalid_session_key" } });
    const wrong = new OpenAI({ baseURL: `${server!.url}/v1`, apiKey: "wrong", defaultHeaders: { "x-tenant-id": TENANT_A }, maxRetries: 0 });
    await expect(wrong.chat.completions.create({ model: "agent:ada", messages: [{ role: "user", content: "hi" }] })).rejects.toMatchObject({ status: 401 });
  });
});

describe("POST /hooks/agent", () => {
  it("starts a run from a webhook and returns its id", async () => {
    harness = await startTestGateway({ hookToken: "hook-token" });
    await harness.createAgent(TENANT_A);
    const response = await harness.request("POST", "/hooks/agent", { body: { agent: "ada", message: "New ticket arrived", sessionKey: "hooks" } });
    expect(response.status).toBe(202);
    const info = RunInfo.parse(await response.json());
    const events = await readRunEvents(await harness.request("GET", `/v1/runs/${info.runId}/events`));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const unauthorized = await harness.request("POST", "/hooks/agent", { body: { agent: "ada", message: "x" }, headers: { authorization: "Bearer nope" } });
    expect(unauthorized.status).toBe(401);
  });
});
