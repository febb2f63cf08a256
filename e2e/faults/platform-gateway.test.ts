/**
 * Platform → gateway faults with both as real processes (started directly, not through the
 * launcher, which would stop the platform when the gateway dies): the gateway down, killed
 * mid-stream, restarted gracefully mid-stream, and frozen (SIGSTOP) mid-stream. The platform must
 * answer 503 gateway_unavailable while the gateway is away, and a client's SSE stream must end
 * (with run_interrupted when its run died with the gateway) or resume — never hang or close silently.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_API_KEY, freePort, sleep, startGateway, startPlatform, type GatewayService, type PlatformService } from "../../bench/lib/services";
import { jsonRequest, stream, type StreamResult } from "../../bench/lib/sse-client";
import { createPlatformUser, platformTarget, type PlatformUser } from "../../bench/lib/targets";

const TOKENS = 30;
const hookToken = `platform-faults-${randomUUID()}`;
let fake: FakeUpstream;
let dataDir: string;
let pgliteDir: string;
let gatewayPort: number;
let gateway: GatewayService;
let platform: PlatformService;
let user: PlatformUser;

const startTheGateway = () => startGateway({ dataDir, fakeUrl: fake.url, hookToken, port: gatewayPort });

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: FAKE_API_KEY, tokens: TOKENS, tokenDelayMs: 40, recordRequests: false });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-platform-"));
  pgliteDir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-platform-db-"));
  gatewayPort = await freePort();
  gateway = await startTheGateway();
  platform = await startPlatform({ gatewayUrl: gateway.url, hookToken, dataDir, pgliteDir });
  user = await createPlatformUser(platform.url);
}, 90_000);

afterAll(async () => {
  await platform?.stop();
  await gateway?.stop();
  await fake?.close();
  for (const dir of [dataDir, pgliteDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const message = (text: string) => `${text}: ${"word ".repeat(TOKENS).trim()}`;

/** Starts a chat stream through the platform and resolves once `tokens` tokens arrived. */
function startStream(text: string, sessionKey: string, tokens: number): { result: Promise<StreamResult>; streaming: Promise<void> } {
  let streaming: () => void = () => undefined;
  const reached = new Promise<void>((resolve) => (streaming = resolve));
  const result = stream({
    url: `${platform.url}/api/agents/${user.slug}/messages`,
    headers: user.headers,
    body: { message: message(text), sessionKey },
    tokenEvent: "text-delta",
    timeoutMs: 30_000,
    onToken: (count) => {
      if (count >= tokens) streaming();
    },
  });
  void result.then(() => streaming());
  return { result, streaming: reached };
}

/** Waits for the stream to end, failing if it is still open after `ms`. */
async function endsWithin(result: Promise<StreamResult>, ms: number): Promise<StreamResult> {
  const outcome = await Promise.race([result, sleep(ms).then(() => "still open" as const)]);
  if (outcome === "still open") throw new Error(`the client's stream was still open ${ms} ms later`);
  return outcome;
}

describe("platform → gateway faults", () => {
  it("answers 503 gateway_unavailable while the gateway is down, and recovers when it is back", async () => {
    await gateway.kill();
    const send = await jsonRequest(`${platform.url}/api/agents/${user.slug}/messages`, "POST", user.headers, { message: "anyone there?" });
    expect(send.status).toBe(503);
    expect(send.body.error.code).toBe("gateway_unavailable");
    const agents = await jsonRequest(`${platform.url}/api/agents`, "GET", user.headers);
    expect(agents.status).toBe(503);
    expect(agents.body.error.code).toBe("gateway_unavailable");
    const health = await jsonRequest(`${platform.url}/api/health`, "GET", {});
    expect(health.status).toBe(503);
    expect(health.body.gateway.ok).toBe(false);

    gateway = await startTheGateway();
    const result = await platformTarget(platform.url, user).send(message("back again"), "recovered", { timeoutMs: 30_000 });
    expect(result.end?.status).toBe("ok");
  });

  it("ends the client's stream with run-end run_interrupted when the gateway is killed mid-stream and comes back, and resuming the run answers the same", async () => {
    const { result, streaming } = startStream("killed mid-stream", "killed", 3);
    await streaming;
    await gateway.kill();
    // The platform keeps the client's stream (heartbeats) and follows the run again once a gateway answers.
    gateway = await startTheGateway();
    const outcome = await endsWithin(result, 20_000);
    expect(outcome.status).toBe(200);
    expect(outcome.end).toEqual({ status: "error", code: "run_interrupted" });
    expect(outcome.tokens).toBeGreaterThanOrEqual(3);
    expect(outcome.runId).toBeDefined();

    const resumed = stream({
      url: `${platform.url}/api/runs/${outcome.runId}/events`,
      method: "GET",
      headers: { ...user.headers, "last-event-id": String(outcome.tokens) },
      tokenEvent: "text-delta",
      timeoutMs: 10_000,
    });
    const answer = await endsWithin(resumed, 5_000);
    expect(answer.status).toBe(200);
    expect(answer.end).toEqual({ status: "error", code: "run_interrupted" });

    // The session takes the next message normally, after an interrupted reply.
    const next = await platformTarget(platform.url, user).send(message("again"), "killed", { timeoutMs: 30_000 });
    expect(next.end?.status).toBe("ok");
    const history = await jsonRequest<{ entries: { type: string; interrupted?: { code: string } }[] }>(`${platform.url}/api/agents/${user.slug}/sessions/killed`, "GET", user.headers);
    expect(history.body.entries.map((entry) => entry.type)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(history.body.entries[1]?.interrupted?.code).toBe("run_interrupted");
  });

  it("ends the client's stream with run-end when the gateway is restarted gracefully mid-stream, and keeps the partial reply", async () => {
    const { result, streaming } = startStream("restarted mid-stream", "restarted", 3);
    await streaming;
    await gateway.stop();
    const outcome = await endsWithin(result, 8_000);
    expect(outcome.tokens).toBeGreaterThanOrEqual(3);
    // A graceful stop aborts the run and records its end; the client sees that end (or a cut stream, never a hang).
    if (outcome.end) expect(outcome.end.status).not.toBe("ok");

    gateway = await startTheGateway();
    const history = await jsonRequest<{ entries: { type: string; interrupted?: { code: string }; content: { text?: string }[] }[] }>(
      `${platform.url}/api/agents/${user.slug}/sessions/restarted`,
      "GET",
      user.headers,
    );
    expect(history.status).toBe(200);
    const reply = history.body.entries.find((entry) => entry.type === "assistant");
    expect(reply?.interrupted).toBeDefined();
    expect(reply?.content.map((block) => block.text ?? "").join("")).toBe(outcome.text);
  });

  it("carries on when the gateway freezes mid-stream (SIGSTOP for 2 s) and thaws", async () => {
    const { result, streaming } = startStream("frozen mid-stream", "frozen", 3);
    await streaming;
    gateway.child.kill("SIGSTOP");
    await sleep(2_000);
    gateway.child.kill("SIGCONT");
    const outcome = await endsWithin(result, 10_000);
    expect(outcome.error).toBeUndefined();
    expect(outcome.end?.status).toBe("ok");
    expect(outcome.tokens).toBe(TOKENS);
  });
});
