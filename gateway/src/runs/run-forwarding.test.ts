/**
 * Forwarding a message to the gateway that holds its session's run lease (decision 027): two
 * gateways on one data dir with Redis: membership, run leases and the run relay are real. The
 * fallback cases name a holder the lease adapter would not (a dead member, one that forwarded).
 */
import { randomUUID } from "node:crypto";
import { FORWARDED_BY_HEADER, RunInfo } from "@workforce/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createConsoleLogger } from "../logger";
import { startServer, type RunningServer } from "../server/start-server";
import { createHeldProvider } from "../test-support/held-provider";
import { readRunEvents, replyText, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { createRedisLeases } from "../coordination/adapters/redis-leases";
import { newMemberId } from "../coordination/member-id";
import { createRedisRunRelay } from "./adapters/redis/redis-run-relay";
import { deleteRedisKeys, REDIS_URL as TEST_REDIS_URL, redisForTests } from "../test-support/redis";

const REDIS_URL = TEST_REDIS_URL;
const prefix = `workforce-test:${randomUUID()}:`;
const reachable = await redisForTests("forwarding");

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  if (reachable) await deleteRedisKeys(prefix);
});

/** A gateway listening on a loopback port, registered in the cluster at its URL; `holder` overrides who the leases say holds a key. */
async function member(
  name: string,
  dataDir?: string,
  holder?: (key: string) => Promise<string | undefined>,
): Promise<{ harness: TestGateway; server: RunningServer; held: ReturnType<typeof createHeldProvider> }> {
  const held = createHeldProvider();
  const memberId = newMemberId(`test-${name}`);
  const leases = createRedisLeases({ url: REDIS_URL, memberId, logger: createConsoleLogger(`[leases ${name}]`), keyPrefix: prefix });
  const relay = createRedisRunRelay({ url: REDIS_URL, logger: createConsoleLogger(`[relay ${name}]`), retentionMs: 60_000, runTimeoutMs: 30_000, keyPrefix: prefix, blockMs: 200 });
  const harness = await startTestGateway({
    ...(dataDir ? { dataDir } : {}),
    relay,
    memberId,
    leases: holder
      ? { acquire: (key, options) => leases.acquire(key, options), tryAcquire: (key) => leases.tryAcquire(key), close: () => leases.close(), holder }
      : leases,
    providers: { anthropic: held },
    config: { defaultModel: "claude-test", redisUrl: REDIS_URL, redisKeyPrefix: prefix, maxConcurrentRuns: 1 },
  });
  const server = await startServer(harness.gateway.app, 0, "127.0.0.1", (request, socket, head) => harness.gateway.websocket.handleUpgrade(request, socket, head));
  cleanups.push(async () => {
    await harness.cleanup();
    await server.close();
  });
  await harness.gateway.join(server.url);
  return { harness, server, held };
}

const send = (gateway: TestGateway, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
  gateway.request("POST", "/v1/agents/ada/runs", { body, headers });

describe.skipIf(!reachable)("forwarding to the lease holder", () => {
  it("sends a message for a session another gateway holds to that gateway, serves its stream here, and holds no slot meanwhile", async () => {
    const first = await member("a");
    const second = await member("b", first.harness.dataDir);
    expect((await first.harness.createAgent(TENANT_A)).status).toBe(201);

    // The session's first run executes on the second gateway, which holds its lease (in Redis) meanwhile.
    RunInfo.parse(await (await send(second.harness, { message: "first", sessionKey: "talk" })).json());
    await second.held.waitForCalls(1);

    // The next message reaches the first gateway: it goes to the holder, and the first gateway streams it.
    const streaming = send(first.harness, { message: "second", sessionKey: "talk", idempotencyKey: "k-2" }, { accept: "text/event-stream" });
    const response = await streaming;
    expect(response.status).toBe(200);
    const runId = response.headers.get("x-run-id")!;
    // Queued behind the first run on the holder; nothing waits or runs on the first gateway.
    expect(second.harness.gateway.runs.get(TENANT_A, runId).status).toBe("queued");
    expect(() => first.harness.gateway.runs.get(TENANT_A, runId)).toThrow(/no run/);
    expect(first.harness.gateway.runs.load()).toMatchObject({ active: 0, waiting: 0 });
    // A retry with the same idempotency key, while the holder still runs the session, joins the same run there.
    const retry = RunInfo.parse(await (await send(first.harness, { message: "second", sessionKey: "talk", idempotencyKey: "k-2" })).json());
    expect(retry.runId).toBe(runId);

    second.held.calls[0]!.release();
    await second.held.waitForCalls(2);
    second.held.calls[1]!.release();
    const events = await readRunEvents(response);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(replyText(events)).toBe("Re: second");
    expect(first.held.calls).toEqual([]);

  });

  it("runs the message itself when the holder is not a live member, when it holds the lease itself, and when the submit was forwarded to it", async () => {
    const holders = new Map<string, string>();
    const first = await member("c", undefined, async (key) => holders.get(key));
    expect((await first.harness.createAgent(TENANT_A)).status).toBe(201);
    const opened = RunInfo.parse(await (await send(first.harness, { message: "open", sessionKey: "alone" })).json());
    await first.held.waitForCalls(1);
    first.held.calls[0]!.release();
    const key = `run:${TENANT_A}/ada/${opened.sessionId}`;

    const second = await member("d", first.harness.dataDir);
    const cases: { holder: string; headers: Record<string, string> }[] = [
      { holder: "gone-host-1-abcdef", headers: {} },
      { holder: first.harness.gateway.membership.memberId, headers: {} },
      // Forwarded here by a gateway whose view of the lease differs: run it, never bounce it back.
      { holder: second.harness.gateway.membership.memberId, headers: { [FORWARDED_BY_HEADER]: "someone" } },
    ];
    for (const [index, { holder, headers }] of cases.entries()) {
      holders.set(key, holder);
      const info = RunInfo.parse(await (await send(first.harness, { message: `case ${index}`, sessionKey: "alone" }, headers)).json());
      await first.held.waitForCalls(index + 2);
      expect(first.held.calls[index + 1]?.message).toBe(`case ${index}`);
      first.held.calls[index + 1]!.release();
      expect(first.harness.gateway.runs.get(TENANT_A, info.runId).runId).toBe(info.runId);
    }
    expect(second.held.calls).toEqual([]);
  });
});
