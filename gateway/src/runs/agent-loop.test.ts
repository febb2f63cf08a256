import { readFile } from "node:fs/promises";
import path from "node:path";
import { AppError, SessionHistory } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createScriptedProvider } from "../test-support/scripted-provider";
import { readRunEvents, replyText, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const usage = { inputTokens: 10, outputTokens: 5 };

async function sendTo(h: TestGateway, message: string, sessionKey = "s") {
  return readRunEvents(await h.request("POST", "/v1/agents/ada/runs", { body: { message, sessionKey }, headers: { accept: "text/event-stream" } }));
}

describe("agent loop", () => {
  it("runs tools in a multi-step loop and records calls and results in the transcript", async () => {
    const provider = createScriptedProvider([
      {
        parts: [
          { type: "text-delta", text: "Let me write that down." },
          { type: "tool-call", toolCallId: "call-1", name: "write_file", input: { path: "notes.md", content: "remember the milk" } },
          { type: "tool-call", toolCallId: "call-2", name: "read_file", input: { path: "../../escape.md" } },
          { type: "finish", stopReason: "tool_use", usage },
        ],
      },
      { parts: [{ type: "text-delta", text: "Done." }, { type: "finish", stopReason: "end_turn", usage }] },
    ]);
    harness = await startTestGateway({ providers: { anthropic: provider } });
    await harness.createAgent(TENANT_A, { model: "claude-test" });
    const events = await sendTo(harness, "Take a note");

    expect(events.map((event) => event.type)).toEqual([
      "run-start",
      "text-delta",
      "tool-call-start",
      "tool-call-start",
      "usage",
      "tool-call-end",
      "tool-call-end",
      "text-delta",
      "usage",
      "run-end",
    ]);
    expect(events.at(-1)).toMatchObject({ status: "ok", usage: { inputTokens: 20, outputTokens: 10 } });
    const ends = events.filter((event) => event.type === "tool-call-end");
    expect(ends.map((event) => event.isError)).toEqual([false, true]);
    expect(await readFile(path.join(harness.dataDir, TENANT_A, "workspace", "ada", "notes.md"), "utf8")).toBe("remember the milk");

    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s")).json());
    expect(history.entries.map((entry) => entry.type)).toEqual(["user", "assistant", "tool-result", "tool-result", "assistant"]);
    const second = provider.requests[1]!;
    expect(second.messages.at(-1)?.content.map((block) => block.type)).toEqual(["tool-result", "tool-result"]);
    expect(second.system).toContain("**Name:** Ada");
    expect(second.tools.map((tool) => tool.name)).toContain("append_memory");
  });

  it("ends with the provider's code and keeps partial text marked interrupted", async () => {
    const provider = createScriptedProvider([
      {
        parts: [{ type: "text-delta", text: "Half an ans" }],
        fail: new AppError("provider_overloaded", "Anthropic is overloaded right now; try again in a moment", { retryable: true }),
      },
    ]);
    harness = await startTestGateway({ providers: { anthropic: provider } });
    await harness.createAgent(TENANT_A, { model: "claude-test" });
    const events = await sendTo(harness, "Tell me everything");
    expect(replyText(events)).toBe("Half an ans");
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "provider_overloaded" } });
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s")).json());
    const last = history.entries.at(-1);
    expect(last).toMatchObject({ type: "assistant", content: [{ type: "text", text: "Half an ans" }], interrupted: { code: "provider_overloaded" } });
  });

  it("fails an unexpected provider crash with internal_error, never 'Unknown error'", async () => {
    const provider = createScriptedProvider([{ parts: [], fail: new TypeError("boom") }]);
    harness = await startTestGateway({ providers: { anthropic: provider }, logger: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    await harness.createAgent(TENANT_A, { model: "claude-test" });
    const events = await sendTo(harness, "hi");
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "internal_error" } });
  });
});
