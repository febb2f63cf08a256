/**
 * Every tenant's run streams share a few connections to the gateway (decision 049): many tenants
 * streaming at once cost the gateway a handful of sockets, not one each. Real gateway process,
 * real fake provider, the platform's real client; connections counted on the gateway's side.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { AppError, type RunEvent } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayClient } from "./gateway-client";
import type { RunSubscription } from "./gateway-run-streams";
import { startGatewayProcess, type GatewayProcess } from "./test-support/gateway-process";

const HOOK_TOKEN = "shared-streams-token";
const MODEL_KEY = "shared-streams-model-key";
const TENANTS = 500;
/** The target of issue 17: 10,000 tenants streaming over at most this many connections. */
const MOST_CONNECTIONS = 16;

let upstream: FakeUpstream;
let gateway: GatewayProcess;
/** Kept across the gateway's restart. */
let dataDir: string;
const gatewayEnv = () => ({ ANTHROPIC_API_KEY: MODEL_KEY, ANTHROPIC_BASE_URL: upstream.url, WORKFORCE_DEFAULT_MODEL: "claude-fake-1", WORKFORCE_MAX_CONCURRENT_RUNS: "2000" });
const tenants = Array.from({ length: TENANTS }, () => randomUUID());

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: MODEL_KEY, recordRequests: false });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-shared-streams-"));
  gateway = await startGatewayProcess({ hookToken: HOOK_TOKEN, dataDir, env: gatewayEnv() });
  // One after the other: the set-up's own keep-alive connection stays one.
  for (const tenantId of tenants) {
    const created = await fetch(`${gateway.url}/v1/agents`, {
      method: "POST",
      headers: { authorization: `Bearer ${HOOK_TOKEN}`, "x-tenant-id": tenantId, "content-type": "application/json" },
      body: JSON.stringify({ name: "Ada", role: "Analyst" }),
    });
    expect(created.status).toBe(201);
  }
}, 180_000);
afterAll(async () => {
  await gateway?.stop();
  await upstream?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

/** Established TCP connections the gateway holds on its port (its accepted sockets), from /proc/net/tcp{,6}. */
async function gatewayConnections(port: number): Promise<number> {
  let count = 0;
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const table = await readFile(file, "utf8").catch(() => "");
    for (const line of table.split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === "01" && local !== undefined && Number.parseInt(local.split(":")[1] ?? "", 16) === port) count += 1;
    }
  }
  return count;
}

/** Collects a subscription's events until run-end (or the connection is lost). */
function collect(subscription: RunSubscription): Promise<{ events: RunEvent[]; lost: boolean }> {
  return new Promise((resolve) => {
    const events: RunEvent[] = [];
    subscription.attach({
      event(event) {
        events.push(event);
        if (event.type === "run-end") resolve({ events, lost: false });
      },
      lost: () => resolve({ events, lost: true }),
    });
  });
}

const textOf = (events: RunEvent[]) => events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("");

describe("run streams of many tenants", () => {
  it(`carries ${TENANTS} tenants' live streams over at most ${MOST_CONNECTIONS} gateway connections, each stream whole; aborting one run ends only its stream`, async () => {
    const client = createGatewayClient({ baseUrl: gateway.url, hookToken: HOOK_TOKEN });
    try {
      // The first tenant's run stalls long enough to be aborted while the others run; theirs stall a moment after a token.
      const started = await Promise.all(
        tenants.map((tenantId, index) => client.streams.startRun(tenantId, "ada", { message: `[[fault:stall:1:${index === 0 ? 60_000 : 2_000}]] stream ${index}` })),
      );
      const outcomes = started.map(({ subscription }) => collect(subscription));
      expect(await gatewayConnections(gateway.port)).toBeLessThanOrEqual(MOST_CONNECTIONS);

      const aborted = await client.abortRun(tenants[0]!, started[0]!.info.runId);
      expect(aborted.runId).toBe(started[0]!.info.runId);
      const results = await Promise.all(outcomes);
      expect(results[0]).toMatchObject({ lost: false });
      expect(results[0]!.events.at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
      for (const [index, result] of results.entries()) {
        if (index === 0) continue;
        expect(result.lost).toBe(false);
        expect(result.events.map((event) => event.seq)).toEqual(result.events.map((_, position) => position + 1));
        expect(result.events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
        expect(textOf(result.events)).toContain(`stream ${index}`);
        expect(result.events[0]).toMatchObject({ runId: started[index]!.info.runId });
      }
      expect(await gatewayConnections(gateway.port)).toBeLessThanOrEqual(MOST_CONNECTIONS);
    } finally {
      client.streams.close();
    }
  }, 180_000);

  it("notices a killed gateway: live streams end as lost, a send while it is down is 503 gateway_unavailable, and the next one after its restart goes through", async () => {
    const client = createGatewayClient({ baseUrl: gateway.url, hookToken: HOOK_TOKEN });
    try {
      const live = await Promise.all(tenants.slice(0, 20).map((tenantId) => client.streams.startRun(tenantId, "ada", { message: "[[fault:stall:1:60000]] held" })));
      const outcomes = live.map(({ subscription }) => collect(subscription));
      gateway.child.kill("SIGKILL");
      await gateway.stop();
      for (const outcome of await Promise.all(outcomes)) expect(outcome.lost).toBe(true);

      const refused = await client.streams.startRun(tenants[1]!, "ada", { message: "while down" }).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(AppError);
      expect(refused).toMatchObject({ code: "gateway_unavailable", status: 503 });

      gateway = await startGatewayProcess({ hookToken: HOOK_TOKEN, dataDir, port: gateway.port, env: gatewayEnv() });
      const again = await client.streams.startRun(tenants[2]!, "ada", { message: "after the restart" });
      const result = await collect(again.subscription);
      expect(result.events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
      expect(textOf(result.events)).toContain("after the restart");
    } finally {
      client.streams.close();
    }
  }, 120_000);
});
