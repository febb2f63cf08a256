import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { RunInfo, SessionHistory } from "@workforce/protocol";
import { createClient } from "redis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createRedisLeases } from "../coordination/adapters/redis-leases";
import type { Leases } from "../coordination/leases";
import { newRedisClient, type RedisClient } from "../coordination/redis-connection";
import { silentLogger } from "../logger";
import { deleteRedisKeys, REDIS_URL, redisForTests } from "../test-support/redis";
import { readRunEvents, replyText, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";

const reachable = await redisForTests("cluster lease tests");
const prefix = `workforce-test:${randomUUID()}:`;
const harnesses: TestGateway[] = [];
const clients: RedisClient[] = [];

afterEach(async () => {
  for (const harness of harnesses.splice(0).reverse()) await harness.cleanup();
  for (const client of clients.splice(0)) if (client.isOpen) client.destroy();
});
afterAll(async () => {
  if (reachable) await deleteRedisKeys(prefix);
});

/** A gateway in cluster mode: run leases in Redis (a short TTL), on its own connection so a test can cut it. */
async function clusterGateway(memberId: string, options: { dataDir?: string; tokenDelayMs: number }): Promise<{ harness: TestGateway; client: RedisClient; leases: Leases }> {
  const client = newRedisClient(REDIS_URL, () => undefined);
  await client.connect();
  clients.push(client);
  const leases = createRedisLeases({ client, memberId, keyPrefix: prefix, ttlMs: 1_000, logger: silentLogger });
  const harness = await startTestGateway({ dataDir: options.dataDir, memberId, leases, config: { offlineTokenDelayMs: options.tokenDelayMs } });
  harnesses.push(harness);
  return { harness, client, leases };
}

describe.skipIf(!reachable)("runs in cluster mode (Redis leases)", () => {
  it("stops a run whose gateway lost the session's lease with run_interrupted, and the other gateway carries the session on", async () => {
    // A's replies stream slowly (seconds), so its run is still going when its lease runs out.
    const a = await clusterGateway("gw-a", { tokenDelayMs: 200 });
    const b = await clusterGateway("gw-b", { dataDir: a.harness.dataDir, tokenDelayMs: 0 });
    expect((await a.harness.createAgent(TENANT_A)).status).toBe(201);

    const started = RunInfo.parse(await (await a.harness.request("POST", "/v1/agents/ada/runs", { body: { message: "Tell me a long story", sessionKey: "story" } })).json());
    const leaseKey = `run:${TENANT_A}/ada/${started.sessionId}`;
    await expect.poll(() => a.leases.holder(leaseKey)).toBe("gw-a");
    // A stalls: its renewals stop reaching Redis while its run streams on.
    a.client.destroy();
    const events = await readRunEvents(await a.harness.request("GET", `/v1/runs/${started.runId}/events`));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "run_interrupted" } });
    expect((events.at(-1) as { error: { message: string } }).error.message).toContain("lost the session");

    // B takes the session over and answers the next message normally.
    const next = RunInfo.parse(await (await b.harness.request("POST", "/v1/agents/ada/runs", { body: { message: "Are you there?", sessionKey: "story" } })).json());
    const reply = await readRunEvents(await b.harness.request("GET", `/v1/runs/${next.runId}/events`));
    expect(reply.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const history = SessionHistory.parse(await (await b.harness.request("GET", "/v1/agents/ada/sessions/story")).json());
    const last = history.entries.at(-1);
    expect(last).toMatchObject({ type: "assistant" });
    expect(last?.type === "assistant" && last.content[0]?.type === "text" ? last.content[0].text : "").toBe(replyText(reply));
    expect(history.entries.filter((entry) => entry.type === "user").map((entry) => (entry.content[0]?.type === "text" ? entry.content[0].text : ""))).toEqual([
      "Tell me a long story",
      "Are you there?",
    ]);
    expect(await b.leases.holder(leaseKey)).toBeUndefined();
  });
});

describe.skipIf(!reachable)("a gateway with REDIS_URL", () => {
  it("holds its runs' session leases in Redis and fences the lines they write", async () => {
    const harness = await startTestGateway({ config: { redisUrl: REDIS_URL } });
    harnesses.push(harness);
    expect((await harness.createAgent(TENANT_A)).status).toBe(201);
    const started = RunInfo.parse(await (await harness.request("POST", "/v1/agents/ada/runs", { body: { message: "Hello", sessionKey: "fenced" } })).json());
    expect((await readRunEvents(await harness.request("GET", `/v1/runs/${started.runId}/events`))).at(-1)).toMatchObject({ type: "run-end", status: "ok" });

    // The default prefix: this session's keys are its own (a fresh session id), removed below.
    const key = `run:${TENANT_A}/ada/${started.sessionId}`;
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const fence = Number(await redis.get(`workforce:fence:${key}`));
      expect(fence).toBeGreaterThan(0);
      expect(await redis.exists([`workforce:lease:${key}`, `workforce:lease-open:${key}`])).toBe(0);
      const transcript = path.join(harness.dataDir, TENANT_A, "agents", "ada", "sessions", `${started.sessionId}.jsonl`);
      const lines = (await readFile(transcript, "utf8")).trim().split("\n").slice(1).map((line) => JSON.parse(line) as { type: string; fence?: number });
      expect(lines.map((line) => line.type)).toEqual(["user", "assistant"]);
      expect(lines.map((line) => line.fence)).toEqual([fence, fence]);
      // The API never shows fences.
      const history = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/fenced")).json());
      expect(history.entries.some((entry) => "fence" in entry)).toBe(false);
    } finally {
      // The relay's keys of this run would expire on their own after the retention.
      await redis.del([`workforce:fence:${key}`, `workforce:run:${started.runId}:info`, `workforce:run:${started.runId}:events`]);
      await redis.close();
    }
  });
});

