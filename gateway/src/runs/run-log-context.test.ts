import { createLogContext, createLogger } from "@workforce/logging";
import { afterEach, describe, expect, it } from "vitest";
import type { ModelProvider } from "../llm/model-provider";
import { createHeldProvider } from "../test-support/held-provider";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";

let test: TestGateway | undefined;
afterEach(async () => {
  await test?.cleanup();
  test = undefined;
});

describe("a run's log lines", () => {
  it("name the request that submitted it, even when another request's run frees its slot", async () => {
    const lines: Array<Record<string, unknown>> = [];
    const context = createLogContext();
    const logger = createLogger({ service: "gateway", context, destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });
    const held = createHeldProvider();
    // Messages asking to fail fail at the provider; the rest wait for the test.
    const provider: ModelProvider = {
      ...held,
      stream(request) {
        const last = request.messages.at(-1)?.content[0];
        if (last?.type === "text" && last.text.includes("fail")) throw new Error("upstream exploded");
        return held.stream(request);
      },
    };
    test = await startTestGateway({ logger, logContext: context, providers: { anthropic: provider }, config: { defaultModel: "claude-test", maxConcurrentRuns: 1 } });
    expect((await test.createAgent(TENANT_A)).status).toBe(201);

    const first = await test.request("POST", "/v1/agents/ada/runs", { body: { message: "hold on", sessionKey: "a" }, headers: { accept: "text/event-stream", "x-request-id": "req-first" } });
    await held.waitForCalls(1);
    // Queued behind the first (one run at a time): it starts when the first ends, from that run's code.
    const second = await test.request("POST", "/v1/agents/ada/runs", { body: { message: "please fail", sessionKey: "b" }, headers: { accept: "text/event-stream", "x-request-id": "req-second" } });
    expect(second.headers.get("x-request-id")).toBe("req-second");
    held.calls[0]!.release();
    expect((await readRunEvents(first)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const events = await readRunEvents(second);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error" });
    const secondRunId = events[0]?.runId;

    const failure = lines.find((line) => line.level === "error" && String(line.msg).includes("failed unexpectedly"));
    expect(failure).toMatchObject({ requestId: "req-second", tenantId: TENANT_A, runId: secondRunId, err: { message: "upstream exploded" } });
  });
});
