import { ApiErrorBody, RunInfo, SessionHistory } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type { ModelProvider } from "../llm/model-provider";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

async function submit(h: TestGateway, body: Record<string, unknown>) {
  return h.request("POST", "/v1/agents/ada/runs", { body });
}

async function events(h: TestGateway, runId: string) {
  return readRunEvents(await h.request("GET", `/v1/runs/${runId}/events`));
}

describe("run manager", () => {
  it("returns the same run for a retried send with the same idempotency key", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    const first = RunInfo.parse(await (await submit(harness, { message: "hi", sessionKey: "s", idempotencyKey: "k-1" })).json());
    const retry = RunInfo.parse(await (await submit(harness, { message: "hi", sessionKey: "s", idempotencyKey: "k-1" })).json());
    expect(retry.runId).toBe(first.runId);
    await events(harness, first.runId);
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s")).json());
    expect(history.entries.filter((entry) => entry.type === "user")).toHaveLength(1);
  });

  it("queues per session with a bound, answering queue_full beyond it", async () => {
    harness = await startTestGateway({ config: { offlineTokenDelayMs: 20 }, limits: { maxQueuedPerSession: 2 } });
    await harness.createAgent(TENANT_A);
    const accepted = [];
    for (let index = 0; index < 3; index += 1) accepted.push(RunInfo.parse(await (await submit(harness, { message: `m${index}`, sessionKey: "s" })).json()));
    expect(accepted.map((run) => run.status)).toEqual(["running", "queued", "queued"]);
    const rejected = await submit(harness, { message: "one too many", sessionKey: "s" });
    expect(rejected.status).toBe(429);
    expect(ApiErrorBody.parse(await rejected.json()).error.code).toBe("queue_full");
    // aborting a queued run ends it at once; the others still complete
    const aborted = RunInfo.parse(await (await harness.request("POST", `/v1/runs/${accepted[2]!.runId}/abort`)).json());
    expect(aborted.status).toBe("aborted");
    expect((await events(harness, accepted[1]!.runId)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect((await events(harness, accepted[2]!.runId)).map((event) => event.type)).toEqual(["run-start", "run-end"]);
  });

  it("caps concurrent runs across sessions", async () => {
    harness = await startTestGateway({ config: { offlineTokenDelayMs: 5, maxConcurrentRuns: 1 } });
    await harness.createAgent(TENANT_A);
    const a = RunInfo.parse(await (await submit(harness, { message: "a", sessionKey: "one" })).json());
    const b = RunInfo.parse(await (await submit(harness, { message: "b", sessionKey: "two" })).json());
    expect([a.status, b.status]).toEqual(["running", "queued"]);
    const endA = (await events(harness, a.runId)).at(-1)!;
    const startB = (await events(harness, b.runId))[0]!;
    expect(endA.type === "run-end" && startB.type === "run-start" && startB.at >= endA.at).toBe(true);
  });

  it("stops a run that exceeds the timeout with run_timeout, keeping its partial text", async () => {
    // The model says a few words at once and then stalls until aborted, so the run always ends by
    // the timeout with partial text, however slow the machine (a model paced by a delay raced the timer).
    const stalling: ModelProvider = {
      name: "stalling",
      info: (model) => ({ provider: "anthropic", id: model, offline: false }),
      async *stream(request) {
        yield { type: "text-delta", text: "A partial" };
        await new Promise<never>((_, reject) => {
          const aborted = () => reject(new DOMException("aborted", "AbortError"));
          if (request.signal.aborted) aborted();
          else request.signal.addEventListener("abort", aborted, { once: true });
        });
      },
    };
    harness = await startTestGateway({ providers: { anthropic: stalling }, config: { defaultModel: "claude-stalling", runTimeoutMs: 1_000 } });
    await harness.createAgent(TENANT_A);
    const run = RunInfo.parse(await (await submit(harness, { message: "Who are you?", sessionKey: "s" })).json());
    expect((await events(harness, run.runId)).at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "run_timeout" } });
    const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s")).json());
    expect(history.entries.at(-1)).toMatchObject({ type: "assistant", interrupted: { code: "run_timeout" } });
    expect(JSON.stringify(history.entries.at(-1))).toContain("A partial");
  });

  it("forgets finished runs after the retention period", async () => {
    harness = await startTestGateway({ limits: { retentionMs: 30 } });
    await harness.createAgent(TENANT_A);
    const run = RunInfo.parse(await (await submit(harness, { message: "hi" })).json());
    await events(harness, run.runId);
    expect((await harness.request("GET", `/v1/runs/${run.runId}`)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect((await harness.request("GET", `/v1/runs/${run.runId}`)).status).toBe(404);
  });

  it("keeps at most maxRetainedRuns finished runs, forgetting the oldest first, and replays the kept ones in full", async () => {
    harness = await startTestGateway({ limits: { maxRetainedRuns: 2 } });
    await harness.createAgent(TENANT_A);
    const ids: string[] = [];
    const replies: string[] = [];
    for (const message of ["one", "two", "three"]) {
      const run = RunInfo.parse(await (await submit(harness, { message, sessionKey: "s" })).json());
      ids.push(run.runId);
      replies.push(JSON.stringify(await events(harness, run.runId)));
    }
    expect((await harness.request("GET", `/v1/runs/${ids[0]}`)).status).toBe(404);
    // A finished run's log is compacted, yet replays exactly what was streamed live.
    expect(JSON.stringify(await events(harness, ids[2]!))).toBe(replies[2]);
    expect(JSON.stringify(await events(harness, ids[1]!))).toBe(replies[1]);
  });

  it("aborts a session's active and queued runs at once", async () => {
    harness = await startTestGateway({ config: { offlineTokenDelayMs: 20 } });
    await harness.createAgent(TENANT_A);
    const first = RunInfo.parse(await (await submit(harness, { message: "Who are you?", sessionKey: "s" })).json());
    const second = RunInfo.parse(await (await submit(harness, { message: "and then?", sessionKey: "s" })).json());
    const response = await harness.request("POST", "/v1/agents/ada/sessions/s/abort");
    const { aborted } = (await response.json()) as { aborted: RunInfo[] };
    expect(aborted.map((run) => run.runId).sort()).toEqual([first.runId, second.runId].sort());
    expect((await events(harness, first.runId)).at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
    expect((await events(harness, second.runId)).at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
  });
});
