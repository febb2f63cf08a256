import { randomUUID } from "node:crypto";
import { RunInfo, SessionHistory } from "@workforce/protocol";
import { createClient } from "redis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createConsoleLogger, silentLogger } from "../../../logger";
import { createHeldProvider } from "../../../test-support/held-provider";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../../../test-support/test-gateway";
import { createRedisRunReaper } from "./redis-run-reaper";
import { createRedisRunRelay } from "./redis-run-relay";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `workforce-test:${randomUUID()}:`;

const probe = createClient({ url: REDIS_URL, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
probe.on("error", () => undefined);
const reachable = await probe.connect().then(
  () => true,
  () => false,
);
if (!reachable && process.env.CI === "true") throw new Error(`Redis at ${REDIS_URL} is unreachable, and CI=true requires it for the run reaper tests: start redis-server or set REDIS_URL`);
if (!reachable) console.warn(`run reaper tests skipped: no Redis at ${REDIS_URL}`);
const redis = probe;

const harnesses: TestGateway[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0).reverse()) await harness.cleanup();
});
afterAll(async () => {
  if (!reachable) return;
  for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) if (keys.length > 0) await redis.del(keys);
  await redis.close();
});

const waitFor = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

/** A gateway in the cluster as member `memberId`: relay and reaper on this test's keys, the held model. */
async function member(memberId: string, provider: ReturnType<typeof createHeldProvider>, dataDir?: string) {
  const relay = createRedisRunRelay({ url: REDIS_URL, logger: createConsoleLogger(`[relay ${memberId}]`), retentionMs: 60_000, runTimeoutMs: 30_000, keyPrefix: prefix, blockMs: 200, memberId });
  const reaper = createRedisRunReaper({ url: REDIS_URL, logger: silentLogger, memberId, retentionMs: 60_000, keyPrefix: prefix, intervalMs: 100 });
  await redis.multi().hSet(`${prefix}members`, memberId, "{}").set(`${prefix}member:${memberId}`, "1", { PX: 60_000 }).exec();
  const harness = await startTestGateway({ relay, reaper, memberId, providers: { anthropic: provider }, config: { defaultModel: "claude-held" }, ...(dataDir ? { dataDir } : {}) });
  harnesses.push(harness);
  return { harness, relay, reaper };
}

describe.skipIf(!reachable)("the run reaper on Redis", () => {
  it("ends a dead gateway's running and queued runs run_interrupted for followers elsewhere, exactly once, and the session goes on", async () => {
    const provider = createHeldProvider();
    const a = await member("a", provider);
    const b = await member("b", provider, a.harness.dataDir);
    expect((await a.harness.createAgent(TENANT_A)).status).toBe(201);
    const send = async (via: TestGateway, message: string) =>
      RunInfo.parse(await (await via.request("POST", "/v1/agents/ada/runs", { body: { message, sessionKey: "cluster" } })).json());
    const running = await send(a.harness, "first");
    const queued = await send(a.harness, "second");
    await provider.waitForCalls(1);
    // Gateway b sees the run executing on a, and follows it.
    await waitFor(async () => {
      const info = await b.harness.request("GET", `/v1/runs/${running.runId}`);
      return info.status === 200 && ((await info.json()) as RunInfo).status === "running" ? true : undefined;
    });
    const following = b.harness.request("GET", `/v1/runs/${running.runId}/events`).then(readRunEvents);

    // a holds a cluster run slot for its running run, as a cluster's gateway does (refreshed, far from expiry).
    await redis.zAdd(`${prefix}slots:global`, { score: Date.now() + 3_600_000, value: running.runId });
    await redis.zAdd(`${prefix}slots:tenant:${TENANT_A}`, { score: Date.now() + 3_600_000, value: running.runId });
    // a "dies": its liveness key expires, it publishes and reaps no more; its runs are abandoned.
    await a.relay.close();
    await a.reaper.close();
    await redis.del(`${prefix}member:a`);

    const events = await following;
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "run_interrupted" } });
    const queuedEvents = await readRunEvents(await b.harness.request("GET", `/v1/runs/${queued.runId}/events`));
    expect(queuedEvents).toEqual([expect.objectContaining({ type: "run-end", seq: 1, error: expect.objectContaining({ code: "run_interrupted" }) })]);
    expect(await (await b.harness.request("GET", `/v1/runs/${running.runId}`)).json()).toMatchObject({ status: "error" });
    // Its slot is free at once, not when a's refreshes would have run out.
    expect(await redis.zScore(`${prefix}slots:global`, running.runId)).toBeNull();
    expect(await redis.zScore(`${prefix}slots:tenant:${TENANT_A}`, running.runId)).toBeNull();

    // More reapers later change nothing: the stream has one end.
    const late = createRedisRunReaper({ url: REDIS_URL, logger: silentLogger, memberId: "c", retentionMs: 60_000, keyPrefix: prefix });
    expect(await Promise.all([late.reap(), late.interrupt(running.runId), b.reaper.reap()])).toEqual([0, false, 0]);
    await late.close();
    const stream = await redis.xRange(`${prefix}run:${running.runId}:events`, "-", "+");
    const ends = (stream ?? []).filter((entry) => JSON.stringify(entry).includes('\\"run-end\\"'));
    expect(ends).toHaveLength(1);
    expect(await redis.sMembers(`${prefix}run-members`)).not.toContain("a");

    // Once a's process is gone (here: closed) its session lease frees, and b marks the transcript.
    await a.harness.gateway.close();
    const history = await waitFor(async () => {
      const found = SessionHistory.parse(await (await b.harness.request("GET", "/v1/agents/ada/sessions/cluster")).json());
      return found.entries.length >= 2 ? found : undefined;
    });
    expect(history.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
    expect(history.entries[1]).toMatchObject({ runId: running.runId, interrupted: { code: "run_interrupted" } });

    const next = await send(b.harness, "are you there?");
    await provider.waitForCalls(2);
    provider.held().forEach((call) => call.release());
    expect((await readRunEvents(await b.harness.request("GET", `/v1/runs/${next.runId}/events`))).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const after = SessionHistory.parse(await (await b.harness.request("GET", "/v1/agents/ada/sessions/cluster")).json());
    expect(after.entries.map((entry) => entry.type)).toEqual(["user", "assistant", "user", "assistant"]);
  });

  it("reaps nothing while cluster membership is not running (no members list), even for runs of unknown members", async () => {
    const lonePrefix = `${prefix}lone:`;
    await redis.multi().sAdd(`${lonePrefix}run-members`, "ghost").sAdd(`${lonePrefix}member-runs:ghost`, "r1").exec();
    const reaper = createRedisRunReaper({ url: REDIS_URL, logger: silentLogger, memberId: "c", retentionMs: 60_000, keyPrefix: lonePrefix });
    expect(await reaper.reap()).toBe(0);
    await reaper.close();
    expect(await redis.sMembers(`${lonePrefix}member-runs:ghost`)).toEqual(["r1"]);
  });
});
