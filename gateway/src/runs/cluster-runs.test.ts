import { randomUUID } from "node:crypto";
import net from "node:net";
import { ApiErrorBody, RunInfo, SessionHistory, type TenantPolicy } from "@workforce/protocol";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import type WebSocket from "ws";
import { createRedisIdempotencyKeys } from "../coordination/adapters/redis-idempotency";
import { newRedisClient, type RedisClient } from "../coordination/redis-connection";
import type { ModelProvider } from "../llm/model-provider";
import { createConsoleLogger } from "../logger";
import { startServer, type RunningServer } from "../server/start-server";
import { createHeldProvider } from "../test-support/held-provider";
import { deleteRedisKeys, REDIS_URL, redisForTests } from "../test-support/redis";
import { readRunEvents, replyText, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";
import { connectTestSocket } from "../test-support/ws-test-client";
import { createRedisClusterSlots } from "./adapters/redis/redis-cluster-slots";
import { createRedisRunRelay } from "./adapters/redis/redis-run-relay";

const prefixes: string[] = [];
const reachable = await redisForTests("cluster run tests");

const harnesses: TestGateway[] = [];
const servers: RunningServer[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const server of servers.splice(0)) await server.close();
  for (const harness of harnesses.splice(0).reverse()) await harness.cleanup();
});
afterAll(async () => {
  if (reachable) for (const prefix of prefixes) await deleteRedisKeys(prefix);
});

/** The held model shared by every gateway of a test, counting the calls executing at once (by their message). */
function sharedModel() {
  const held = createHeldProvider();
  const running = new Set<string>();
  /** What was executing each time a call began. */
  const snapshots: string[][] = [];
  const provider: ModelProvider = {
    name: held.name,
    info: (model) => held.info(model),
    async *stream(request) {
      const last = request.messages.at(-1)?.content[0];
      const message = last?.type === "text" ? last.text : "";
      running.add(message);
      snapshots.push([...running]);
      try {
        yield* held.stream(request);
      } finally {
        running.delete(message);
      }
    },
  };
  const peak = (matching: (message: string) => boolean = () => true) => Math.max(0, ...snapshots.map((snapshot) => snapshot.filter(matching).length));
  const release = (message: string) => held.calls.find((call) => call.message === message)?.release();
  return { provider, held, peak, release };
}

interface ClusterOptions {
  gateways: number;
  maxConcurrentRuns: number;
  slotTtlMs?: number;
}

/** Gateways on one data dir and one Redis prefix (relay, idempotency keys, slots), the model shared; each one's slot connections kept. */
async function cluster(options: ClusterOptions) {
  const prefix = `workforce-test:${randomUUID()}:`;
  prefixes.push(prefix);
  const model = sharedModel();
  const connections: RedisClient[][] = [];
  const gateways: TestGateway[] = [];
  for (let index = 0; index < options.gateways; index += 1) {
    const logger = createConsoleLogger(`[gateway ${index}]`);
    const own: RedisClient[] = [];
    connections.push(own);
    const harness = await startTestGateway({
      dataDir: gateways[0]?.dataDir,
      providers: { anthropic: model.provider },
      config: { defaultModel: "claude-held", maxConcurrentRuns: options.maxConcurrentRuns },
      relay: createRedisRunRelay({ url: REDIS_URL, logger, retentionMs: 60_000, runTimeoutMs: 30_000, keyPrefix: prefix, blockMs: 500 }),
      idempotency: createRedisIdempotencyKeys({ url: REDIS_URL, logger, keyPrefix: prefix }),
      slots: createRedisClusterSlots({
        url: REDIS_URL,
        logger,
        keyPrefix: prefix,
        pollMs: 100,
        ...(options.slotTtlMs ? { ttlMs: options.slotTtlMs } : {}),
        connect: (url, onError) => {
          const client = newRedisClient(url, onError);
          own.push(client);
          return client;
        },
      }),
    });
    // The first one owns (and removes) the data dir: cleaned up last.
    harnesses.push(harness);
    gateways.push(harness);
  }
  for (const tenant of [TENANT_A, TENANT_B]) expect((await gateways[0]!.createAgent(tenant)).status).toBe(201);
  return { gateways, model, connections };
}

async function send(gateway: TestGateway, body: Record<string, unknown>, tenant = TENANT_A): Promise<Response> {
  return gateway.request("POST", "/v1/agents/ada/runs", { tenant, body });
}

async function sent(gateway: TestGateway, body: Record<string, unknown>, tenant = TENANT_A): Promise<RunInfo> {
  const response = await send(gateway, body, tenant);
  expect(response.status).toBe(202);
  return RunInfo.parse(await response.json());
}

async function endOf(gateway: TestGateway, runId: string, tenant = TENANT_A) {
  return (await readRunEvents(await gateway.request("GET", `/v1/runs/${runId}/events`, { tenant }))).at(-1);
}

async function transcript(gateway: TestGateway, sessionKey: string) {
  const history = SessionHistory.parse(await (await gateway.request("GET", `/v1/agents/ada/sessions/${sessionKey}`)).json());
  const text = (entry: SessionHistory["entries"][number]) => ("content" in entry ? entry.content.flatMap((part) => (part.type === "text" ? [part.text] : [])).join("") : "");
  return history.entries.map((entry) => `${entry.type}: ${text(entry)}`);
}

async function pushPolicy(gateway: TestGateway, tenant: string, limits: Partial<TenantPolicy["limits"]>) {
  const body: TenantPolicy = {
    version: 1,
    suspended: false,
    suspendedReason: null,
    limits: { maxConcurrentRuns: 4, maxQueuedRuns: 200, monthlyTokens: null, diskBytes: null, ...limits },
  };
  expect((await gateway.request("PUT", "/v1/tenant/policy", { tenant, body })).status).toBe(200);
}

describe.skipIf(!reachable)("idempotency keys across gateways (Redis)", () => {
  it("lets a retry on another gateway join the run its first attempt started: one user entry, one reply", async () => {
    const { gateways, model } = await cluster({ gateways: 2, maxConcurrentRuns: 4 });
    const [first, second] = gateways as [TestGateway, TestGateway];
    const body = { message: "Summarise the memo", sessionKey: "retried", idempotencyKey: "send-1" };
    const original = await sent(first, body);
    await model.held.waitForCalls(1);

    // The retry lands on the other gateway, streaming: it follows the same run through the relay.
    const retry = await second.request("POST", "/v1/agents/ada/runs", { body, headers: { accept: "text/event-stream" } });
    expect(retry.status).toBe(200);
    expect(retry.headers.get("x-run-id")).toBe(original.runId);
    model.release("Summarise the memo");
    const events = await readRunEvents(retry);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(replyText(events)).toBe("Re: Summarise the memo");

    expect(model.held.calls).toHaveLength(1);
    expect(await transcript(second, "retried")).toEqual(["user: Summarise the memo", "assistant: Re: Summarise the memo"]);
  });

  it("lets a WebSocket chat.send retry on another gateway follow the run, events and all", async () => {
    const { gateways, model } = await cluster({ gateways: 2, maxConcurrentRuns: 4 });
    const [first, second] = gateways as [TestGateway, TestGateway];
    const original = await sent(first, { message: "Over the socket", sessionKey: "ws-retry", idempotencyKey: "ws-1" });
    await model.held.waitForCalls(1);
    const server = await startServer(second.gateway.app, 0, "127.0.0.1", (request, socket, head) => second.gateway.websocket.handleUpgrade(request, socket, head));
    servers.push(server);
    const client = connectTestSocket(`${server.url.replace("http", "ws")}/v1/ws`, { "x-tenant-id": TENANT_A }, sockets);
    await client.opened;
    client.request("1", "chat.send", { agent: "ada", message: "Over the socket", sessionKey: "ws-retry", idempotencyKey: "ws-1" });
    await client.until((frames) => frames.some((frame) => frame.id === "1"));
    model.release("Over the socket");
    const frames = await client.until((all) => all.some((frame) => frame.event === "run-end"));
    expect(frames.find((frame) => frame.id === "1")).toMatchObject({ ok: true, payload: { runId: original.runId } });
    const text = frames.flatMap((frame) => (frame.event === "text-delta" ? [(frame.payload as { delta: string }).delta] : [])).join("");
    expect(text).toBe("Re: Over the socket");
    expect(model.held.calls).toHaveLength(1);
    expect(await transcript(second, "ws-retry")).toEqual(["user: Over the socket", "assistant: Re: Over the socket"]);
  });

  it("starts exactly one run when two gateways get the same key at once", async () => {
    const { gateways, model } = await cluster({ gateways: 3, maxConcurrentRuns: 4 });
    const body = { message: "Only once", sessionKey: "raced", idempotencyKey: "send-raced" };
    const infos = await Promise.all(gateways.map((gateway) => sent(gateway, body)));
    expect(new Set(infos.map((info) => info.runId)).size).toBe(1);
    await model.held.waitForCalls(1);
    model.release("Only once");
    for (const [index, gateway] of gateways.entries()) expect(await endOf(gateway, infos[index]!.runId)).toMatchObject({ type: "run-end", status: "ok" });
    expect(model.held.calls).toHaveLength(1);
    expect(await transcript(gateways[0]!, "raced")).toEqual(["user: Only once", "assistant: Re: Only once"]);
  });
});

describe.skipIf(!reachable)("run limits across gateways (Redis)", () => {
  it("never executes more than WORKFORCE_MAX_CONCURRENT_RUNS runs at once across three gateways, and runs them all", async () => {
    const { gateways, model } = await cluster({ gateways: 3, maxConcurrentRuns: 2 });
    const runs: { gateway: TestGateway; info: RunInfo; message: string }[] = [];
    for (const [index, gateway] of gateways.entries()) {
      for (const tenant of [TENANT_A, TENANT_B]) {
        const message = `g${index} ${tenant === TENANT_A ? "A" : "B"}`;
        runs.push({ gateway, info: await sent(gateway, { message }, tenant), message });
      }
    }
    // Each gateway alone would start 2 (6 in all); the cluster starts 2, the rest wait for a slot.
    for (let released = 0; released < runs.length; released += 1) {
      await model.held.waitForCalls(Math.min(runs.length, released + 2));
      expect(model.held.held().length).toBeLessThanOrEqual(2);
      model.held.held()[0]?.release();
    }
    for (const { gateway, info, message } of runs) {
      const tenant = message.endsWith("A") ? TENANT_A : TENANT_B;
      expect(await endOf(gateway, info.runId, tenant)).toMatchObject({ type: "run-end", status: "ok" });
    }
    expect(model.held.calls).toHaveLength(6);
    expect(model.peak()).toBe(2);
  });

  it("holds a tenant's concurrency cap and queue bound across gateways while other tenants run", async () => {
    const { gateways, model } = await cluster({ gateways: 2, maxConcurrentRuns: 8 });
    const [first, second] = gateways as [TestGateway, TestGateway];
    await pushPolicy(first, TENANT_B, { maxConcurrentRuns: 1, maxQueuedRuns: 1 });
    await sent(first, { message: "B1" }, TENANT_B);
    await model.held.waitForCalls(1);
    // The other gateway has no run of B yet: alone it would start this one.
    const b2 = await sent(second, { message: "B2" }, TENANT_B);
    const a1 = await sent(second, { message: "A1" });
    await model.held.waitForCalls(2);
    expect(model.held.calls.map((call) => call.message)).toEqual(["B1", "A1"]);
    expect(RunInfo.parse(await (await second.request("GET", `/v1/runs/${b2.runId}`, { tenant: TENANT_B })).json()).status).toBe("queued");
    // One of B's runs waits in the cluster: a third, on the first gateway (which has none waiting), is refused.
    const refused = await send(first, { message: "B3" }, TENANT_B);
    expect(refused.status).toBe(429);
    expect(ApiErrorBody.parse(await refused.json()).error.code).toBe("tenant_queue_full");

    model.release("B1");
    await model.held.waitForCalls(3);
    expect(model.held.calls[2]?.message).toBe("B2");
    model.release("B2");
    model.release("A1");
    expect(await endOf(second, b2.runId, TENANT_B)).toMatchObject({ type: "run-end", status: "ok" });
    expect(await endOf(second, a1.runId)).toMatchObject({ type: "run-end", status: "ok" });
    expect(model.peak((message) => message.startsWith("B"))).toBe(1);
  });

  it("frees the slots of a gateway that died (its Redis connection cut, nothing released) within their time to live", async () => {
    const { gateways, model, connections } = await cluster({ gateways: 2, maxConcurrentRuns: 1, slotTtlMs: 600 });
    const [dying, survivor] = gateways as [TestGateway, TestGateway];
    await sent(dying, { message: "on the dying gateway" });
    await model.held.waitForCalls(1);
    const waiting = await sent(survivor, { message: "on the survivor" });
    expect(waiting.status).toBe("queued");

    for (const client of connections[0]!) client.destroy();
    // No release reaches Redis; the dead gateway's slot expires, and the survivor's run starts.
    await vi.waitFor(() => expect(model.held.calls.map((call) => call.message)).toContain("on the survivor"), { timeout: 10_000, interval: 20 });
    model.release("on the survivor");
    expect(await endOf(survivor, waiting.runId)).toMatchObject({ type: "run-end", status: "ok" });
    model.release("on the dying gateway");
  });
});

describe.skipIf(!reachable)("gateways built from REDIS_URL alone", () => {
  it("share idempotency keys and run slots as the CLI starts them (adapters imported on demand)", async () => {
    const prefix = `workforce-test:${randomUUID()}:`;
    prefixes.push(prefix);
    const model = sharedModel();
    const start = (dataDir?: string) =>
      startTestGateway({ dataDir, redisKeyPrefix: prefix, providers: { anthropic: model.provider }, config: { defaultModel: "claude-held", maxConcurrentRuns: 1, redisUrl: REDIS_URL } });
    const first = await start();
    harnesses.push(first);
    const second = await start(first.dataDir);
    harnesses.push(second);
    expect((await first.createAgent(TENANT_A)).status).toBe(201);

    const original = await sent(first, { message: "keyed", idempotencyKey: "from-env" });
    await model.held.waitForCalls(1);
    expect((await sent(second, { message: "keyed", idempotencyKey: "from-env" })).runId).toBe(original.runId);
    const other = await sent(second, { message: "other" });
    model.release("keyed");
    await model.held.waitForCalls(2);
    model.release("other");
    expect(await endOf(second, other.runId)).toMatchObject({ type: "run-end", status: "ok" });
    expect(model.held.calls.map((call) => call.message)).toEqual(["keyed", "other"]);
    expect(model.peak()).toBe(1);
  });
});

describe("cluster runs without Redis", () => {
  it("falls back to this gateway's own keys and limits, with a warning, and never stalls a run", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const warnings: string[] = [];
    const logger = { info: () => undefined, warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) };
    const url = `redis://127.0.0.1:${closedPort}`;
    const model = sharedModel();
    const harness = await startTestGateway({
      providers: { anthropic: model.provider },
      config: { defaultModel: "claude-held", maxConcurrentRuns: 1 },
      idempotency: createRedisIdempotencyKeys({ url, logger, keyPrefix: "unreachable:" }),
      slots: createRedisClusterSlots({ url, logger, keyPrefix: "unreachable:" }),
    });
    harnesses.push(harness);
    expect((await harness.createAgent(TENANT_A)).status).toBe(201);

    const started = Date.now();
    const first = await sent(harness, { message: "first", idempotencyKey: "offline-1" });
    // The key is still honoured on this gateway, and this gateway's limit (1 at once) still holds.
    expect((await sent(harness, { message: "first", idempotencyKey: "offline-1" })).runId).toBe(first.runId);
    const second = await sent(harness, { message: "second" });
    await model.held.waitForCalls(1);
    model.release("first");
    await model.held.waitForCalls(2);
    model.release("second");
    expect(await endOf(harness, first.runId)).toMatchObject({ type: "run-end", status: "ok" });
    expect(await endOf(harness, second.runId)).toMatchObject({ type: "run-end", status: "ok" });
    expect(Date.now() - started).toBeLessThan(8_000);
    expect(model.peak()).toBe(1);
    expect(warnings.join("\n")).toContain("run slots (Redis)");
    expect(warnings.join("\n")).toContain("idempotency keys (Redis)");
  });
});
