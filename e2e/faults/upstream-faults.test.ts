/**
 * Upstream faults played by the fake Anthropic API (magic tokens in the message), through a real
 * gateway process and the real Anthropic SDK: 429 with retry-after, 529, 500, a connection reset
 * mid-stream, a stall longer than the run timeout, a malformed event, an unreachable upstream.
 * Each ends in bounded retries or a run-end with a specific code; no run hangs; text streamed
 * before the failure is kept in the transcript, marked interrupted with the same code.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { SessionHistory, type TranscriptEntry } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_API_KEY, freePort, startGateway, type GatewayService } from "../../bench/lib/services";
import { jsonRequest, type StreamResult } from "../../bench/lib/sse-client";
import { createGatewayAgent, gatewayTarget, type GatewayTenant } from "../../bench/lib/targets";
import { textOfEntry } from "./support";

const RUN_TIMEOUT_MS = 1_500;
/** Gateway retry policy: 4 attempts in all. */
const MAX_ATTEMPTS = 4;
const WORDS = "one two three four five six seven eight nine ten eleven twelve";

let fake: FakeUpstream;
let dataDir: string;
const hookToken = `upstream-faults-${randomUUID()}`;
let gateway: GatewayService;
let tenant: GatewayTenant;

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: FAKE_API_KEY, tokenDelayMs: 2 });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-upstream-"));
  gateway = await startGateway({ dataDir, fakeUrl: fake.url, hookToken, env: { WORKFORCE_RUN_TIMEOUT_MS: String(RUN_TIMEOUT_MS) } });
  tenant = await createGatewayAgent(gateway.url, hookToken, "Fault Target");
}, 60_000);

afterAll(async () => {
  await gateway?.stop();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

interface Outcome {
  result: StreamResult;
  attempts: number;
  seconds: number;
  entries: TranscriptEntry[];
}

/** Sends `token` + a unique message in its own session; returns the stream, attempts seen by the fake and the stored transcript. */
async function play(token: string, target = gateway, owner = tenant): Promise<Outcome> {
  const nonce = randomUUID().slice(0, 8);
  const message = `${token} ${nonce} ${WORDS}`;
  const sessionKey = `fault-${nonce}`;
  const started = performance.now();
  const result = await gatewayTarget(target.url, owner).send(message, sessionKey, { timeoutMs: 15_000 });
  const seconds = (performance.now() - started) / 1000;
  const attempts = fake.requests.filter((request) => JSON.stringify(request.body ?? "").includes(nonce)).length;
  const history = await jsonRequest(`${target.url}/v1/agents/${owner.slug}/sessions/${sessionKey}`, "GET", owner.headers);
  expect(history.status).toBe(200);
  return { result, attempts, seconds, entries: SessionHistory.parse(history.body).entries };
}

function expectEndedWith(outcome: Outcome, code: string): void {
  expect(outcome.result.error, "the stream must end cleanly, not be cut").toBeUndefined();
  expect(outcome.result.end).toEqual({ status: "error", code });
}

function expectPartialKept(outcome: Outcome, code: string): void {
  expect(outcome.result.text.length, "some text streamed before the fault").toBeGreaterThan(0);
  const assistant = outcome.entries.filter((entry): entry is Extract<TranscriptEntry, { type: "assistant" }> => entry.type === "assistant");
  expect(assistant).toHaveLength(1);
  expect(assistant[0]!.stopReason).toBe("interrupted");
  expect(assistant[0]!.interrupted?.code).toBe(code);
  expect(textOfEntry(assistant[0]!)).toBe(outcome.result.text);
}

function expectNoReply(outcome: Outcome): void {
  expect(outcome.entries.map((entry) => entry.type)).toEqual(["user"]);
}

describe("upstream faults through the gateway", () => {
  it("429 with retry-after once: retried after the hinted delay, then the run succeeds", async () => {
    const outcome = await play("[[fault:429:0.2*1]]");
    expect(outcome.result.end?.status).toBe("ok");
    expect(outcome.attempts).toBe(2);
    expect(outcome.seconds).toBeGreaterThanOrEqual(0.2);
    expect(outcome.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
  });

  it("429 every time: bounded retries, then provider_rate_limited", async () => {
    const outcome = await play("[[fault:429:0.05]]");
    expectEndedWith(outcome, "provider_rate_limited");
    expect(outcome.attempts).toBe(MAX_ATTEMPTS);
    expectNoReply(outcome);
  });

  it("429 with a retry-after longer than the gateway waits: fails at once with provider_rate_limited", async () => {
    const outcome = await play("[[fault:429:3600]]");
    expectEndedWith(outcome, "provider_rate_limited");
    expect(outcome.attempts).toBe(1);
    expect(outcome.seconds).toBeLessThan(5);
  });

  it("529 every time: bounded retries, then provider_overloaded", async () => {
    const outcome = await play("[[fault:529:0.05]]");
    expectEndedWith(outcome, "provider_overloaded");
    expect(outcome.attempts).toBe(MAX_ATTEMPTS);
    expectNoReply(outcome);
  });

  it("500 every time: bounded retries, then provider_error", async () => {
    const outcome = await play("[[fault:500:0.05]]");
    expectEndedWith(outcome, "provider_error");
    expect(outcome.attempts).toBe(MAX_ATTEMPTS);
    expectNoReply(outcome);
  });

  it("overloaded error event mid-stream: no retry (text already streamed), provider_overloaded, partial kept", async () => {
    const outcome = await play("[[fault:overloaded:3]]");
    expectEndedWith(outcome, "provider_overloaded");
    expect(outcome.attempts).toBe(1);
    expectPartialKept(outcome, "provider_overloaded");
  });

  it("connection reset mid-stream: a provider error code, no retry, partial kept", async () => {
    const outcome = await play("[[fault:reset:3]]");
    // The SDK surfaces a body cut mid-stream as undici's "terminated" (not an APIConnectionError),
    // which the gateway reports as provider_error; provider_unreachable would fit as well.
    const code = outcome.result.end?.code;
    expect(["provider_error", "provider_unreachable"]).toContain(code);
    expectEndedWith(outcome, code!);
    expect(outcome.attempts).toBe(1);
    expectPartialKept(outcome, code!);
  });

  it("malformed event mid-stream: provider_error, partial kept", async () => {
    const outcome = await play("[[fault:malformed:3]]");
    expectEndedWith(outcome, "provider_error");
    expect(outcome.attempts).toBe(1);
    expectPartialKept(outcome, "provider_error");
  });

  it("stall after some tokens, longer than the run timeout: run_timeout on time, partial kept", async () => {
    const outcome = await play("[[fault:stall:3]]");
    expectEndedWith(outcome, "run_timeout");
    expect(outcome.seconds).toBeGreaterThanOrEqual(RUN_TIMEOUT_MS / 1000 - 0.1);
    expect(outcome.seconds).toBeLessThan(RUN_TIMEOUT_MS / 1000 + 3);
    expectPartialKept(outcome, "run_timeout");
  });

  it("stall before the first token: run_timeout on time, nothing but the question stored", async () => {
    const outcome = await play("[[fault:stall:0]]");
    expectEndedWith(outcome, "run_timeout");
    expect(outcome.seconds).toBeLessThan(RUN_TIMEOUT_MS / 1000 + 3);
    expectNoReply(outcome);
  });

  it("upstream not listening: bounded retries, then provider_unreachable", async () => {
    const closedPort = await freePort();
    const unreachableDir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-unreachable-"));
    const lonely = await startGateway({ dataDir: unreachableDir, fakeUrl: `http://127.0.0.1:${closedPort}`, hookToken, env: { WORKFORCE_RUN_TIMEOUT_MS: "20000" } });
    try {
      const owner = await createGatewayAgent(lonely.url, hookToken, "Lonely");
      const started = performance.now();
      const result = await gatewayTarget(lonely.url, owner).send(`hello ${WORDS}`, "lonely", { timeoutMs: 15_000 });
      expect(result.end).toEqual({ status: "error", code: "provider_unreachable" });
      // Backoff 0.5 s → 1 s → 2 s with jitter, 4 attempts: bounded well under the run timeout.
      expect((performance.now() - started) / 1000).toBeLessThan(8);
    } finally {
      await lonely.stop();
      await rm(unreachableDir, { recursive: true, force: true });
    }
  }, 30_000);

  it("keeps serving normal runs after all of that", async () => {
    const outcome = await play("no fault here");
    expect(outcome.result.end?.status).toBe("ok");
    expect(outcome.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
  });
});
