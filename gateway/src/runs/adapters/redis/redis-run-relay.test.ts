import { randomUUID } from "node:crypto";
import net from "node:net";
import { RunInfo, type RunEvent } from "@workforce/protocol";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createConsoleLogger } from "../../../logger";
import { readRunEvents, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../../../test-support/test-gateway";
import { createRedisRunRelay } from "./redis-run-relay";
import { deleteRedisKeys, REDIS_URL, redisForTests } from "../../../test-support/redis";

const prefix = `workforce-test:${randomUUID()}:`;
const reachable = await redisForTests("run relay tests");

const harnesses: TestGateway[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0).reverse()) await harness.cleanup();
});
afterAll(async () => {
  if (reachable) await deleteRedisKeys(prefix);
});

/** Two gateways on one data dir, each publishing to (and reading from) Redis. */
async function twoGateways(): Promise<[TestGateway, TestGateway]> {
  const relay = (name: string) =>
    createRedisRunRelay({ url: REDIS_URL, logger: createConsoleLogger(`[relay ${name}]`), retentionMs: 60_000, runTimeoutMs: 30_000, keyPrefix: prefix, blockMs: 500 });
  const first = await startTestGateway({ relay: relay("a"), config: { offlineTokenDelayMs: 20 } });
  harnesses.push(first);
  const second = await startTestGateway({ dataDir: first.dataDir, relay: relay("b") });
  harnesses.push(second);
  expect((await first.createAgent(TENANT_A)).status).toBe(201);
  return [first, second];
}

describe.skipIf(!reachable)("run relay on Redis", () => {
  it("lets another gateway report, replay from a seq and follow a run it did not start, for its tenant only", async () => {
    const [owner, other] = await twoGateways();
    const started = RunInfo.parse(await (await owner.request("POST", "/v1/agents/ada/runs", { body: { message: "Who are you?", sessionKey: "relayed" } })).json());

    // Status, from the gateway that does not execute the run.
    await expect.poll(async () => (await other.request("GET", `/v1/runs/${started.runId}`)).status).toBe(200);
    const info = RunInfo.parse(await (await other.request("GET", `/v1/runs/${started.runId}`)).json());
    // Still running (offline tokens 20 ms apart), so the replay below also follows live events (blocking XREAD).
    expect(info).toMatchObject({ runId: started.runId, agent: "ada", sessionKey: "relayed", status: "running" });

    // Replay after seq 2 and follow live to the end: exactly the owner's events with seq > 2, once each.
    const relayed = await readRunEvents(await other.request("GET", `/v1/runs/${started.runId}/events?after=2`));
    const local = await readRunEvents(await owner.request("GET", `/v1/runs/${started.runId}/events`));
    expect(local.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(relayed).toEqual(local.filter((event: RunEvent) => event.seq > 2));

    // The finished run is reported as such; another tenant cannot see it.
    await expect.poll(async () => RunInfo.parse(await (await other.request("GET", `/v1/runs/${started.runId}`)).json()).status).toBe("ok");
    expect((await other.request("GET", `/v1/runs/${started.runId}`, { tenant: TENANT_B })).status).toBe(404);
    expect((await other.request("GET", `/v1/runs/${started.runId}/events`, { tenant: TENANT_B })).status).toBe(404);
    expect((await other.request("GET", `/v1/runs/${randomUUID()}`)).status).toBe(404);
  });

  it("forwards an abort to the gateway executing the run", async () => {
    const [owner, other] = await twoGateways();
    const started = RunInfo.parse(await (await owner.request("POST", "/v1/agents/ada/runs", { body: { message: "Tell me everything", sessionKey: "stop-me" } })).json());
    await expect.poll(async () => (await other.request("GET", `/v1/runs/${started.runId}`)).status).toBe(200);
    expect((await other.request("POST", `/v1/runs/${started.runId}/abort`)).status).toBe(200);
    const events = await readRunEvents(await owner.request("GET", `/v1/runs/${started.runId}/events`));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
    // The other gateway's replay ends with the same run-end.
    expect((await readRunEvents(await other.request("GET", `/v1/runs/${started.runId}/events`))).at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
  });
});

describe("run relay without Redis", () => {
  it("keeps runs working when Redis is unreachable, and answers lookups of unknown runs quickly", async () => {
    const closedPort = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const warnings: string[] = [];
    const relay = createRedisRunRelay({
      url: `redis://127.0.0.1:${closedPort}`,
      logger: { info: () => undefined, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) },
      retentionMs: 60_000,
      runTimeoutMs: 30_000,
      keyPrefix: prefix,
    });
    const gateway = await startTestGateway({ relay });
    harnesses.push(gateway);
    await gateway.createAgent(TENANT_A);
    const events = await readRunEvents(await gateway.request("POST", "/v1/agents/ada/runs", { body: { message: "hi" }, headers: { accept: "text/event-stream" } }));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const started = Date.now();
    const missing = await gateway.request("GET", `/v1/runs/${randomUUID()}`);
    expect(missing.status).toBe(503);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("gateway_unavailable");
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(warnings.join("\n")).toContain("run relay (Redis)");
  });
});
