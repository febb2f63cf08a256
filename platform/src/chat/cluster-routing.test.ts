/**
 * The platform in front of a cluster (decision 027): three real gateway processes on one data dir
 * with Redis, the platform routing by rendezvous hashing over their registrations. Each session's
 * messages land on one gateway; when that gateway dies its sessions move to the others and carry
 * on; a stream whose gateway dies mid-run resumes through another one.
 */
import { randomUUID } from "node:crypto";
import { ClusterMembers, RunInfo, SessionHistory, type ClusterMember, type RunEvent } from "@workforce/protocol";
import { createClient } from "redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayClient, type GatewayClientOptions } from "../gateway-client";
import { startGatewayProcess, type GatewayProcess } from "../test-support/gateway-process";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";
import { createRedisGatewayMembers, type GatewayMembers } from "./gateway-members";
import { rendezvousOrder, sessionRoutingKey } from "./rendezvous";
import { createRoutedGatewayClient } from "./routed-gateway-client";

const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const prefix = `workforce-test:${randomUUID()}:`;
const TOKEN = "cluster-routing-hook-token-0123456789";

async function redisReachable(): Promise<boolean> {
  const probe = createClient({ url: REDIS_URL, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
  probe.on("error", () => undefined);
  try {
    await probe.connect();
    await probe.close();
    return true;
  } catch {
    return false;
  }
}
const reachable = await redisReachable();
if (!reachable && process.env.CI === "true") throw new Error(`Redis at ${REDIS_URL} is unreachable, and CI=true requires it for the cluster routing tests`);
if (!reachable) console.warn(`cluster routing tests skipped: no Redis at ${REDIS_URL}`);

const gateways: GatewayProcess[] = [];
let members: GatewayMembers;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let ada: { token: string; tenantId: string };
/** Which gateway (URL) each stream was started or subscribed at, as the platform chose. */
const routedTo: { kind: "start" | "subscribe"; url: string; sessionKey?: string; runId?: string }[] = [];

/** A gateway client that notes where each run stream goes: the routing decision under test. */
function recordingClient(options: GatewayClientOptions) {
  const client = createGatewayClient(options);
  const inner = client.streams;
  const streams: typeof inner = {
    ...inner,
    startRun: async (tenantId, agent, input, actor) => {
      routedTo.push({ kind: "start", url: options.baseUrl, ...(input.sessionKey ? { sessionKey: input.sessionKey } : {}) });
      return inner.startRun(tenantId, agent, input, actor);
    },
    subscribe: async (tenantId, runId, after) => {
      routedTo.push({ kind: "subscribe", url: options.baseUrl, runId });
      return inner.subscribe(tenantId, runId, after);
    },
  };
  return { ...client, streams };
}

const startGateway = (dataDir?: string) =>
  startGatewayProcess({ hookToken: TOKEN, ...(dataDir ? { dataDir } : {}), env: { REDIS_URL, REDIS_KEY_PREFIX: prefix, OFFLINE_MODEL_DELAY_MS: "15" } });

async function liveMembers(count: number): Promise<ClusterMember[]> {
  for (;;) {
    members.invalidate();
    const live = await members.list();
    if (live.length === count) return live;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  if (!reachable) return;
  gateways.push(await startGateway());
  gateways.push(...(await Promise.all([startGateway(gateways[0]!.dataDir), startGateway(gateways[0]!.dataDir)])));
  members = createRedisGatewayMembers({ url: REDIS_URL, keyPrefix: prefix, logError: (message, error) => console.warn(message, error) });
  const gateway = createRoutedGatewayClient({ hookToken: TOKEN, fallbackUrl: gateways[0]!.url, members, connect: recordingClient });
  platform = await createTestPlatform({ gatewayUrl: gateways[0]!.url, hookToken: TOKEN, parts: { gateway } });
  call = caller(platform);
  ada = await signUp(platform, "ada-cluster@example.com");
  expect((await call("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
}, 120_000);

afterAll(async () => {
  if (!reachable) return;
  await platform?.close();
  await members?.close();
  // The first owns the shared data dir: stopped last.
  for (const gateway of gateways.slice(1).reverse()) await gateway.stop();
  await gateways[0]?.stop();
  const cleaner = createClient({ url: REDIS_URL });
  await cleaner.connect();
  for await (const keys of cleaner.scanIterator({ MATCH: `${prefix}*`, COUNT: 100 })) if (keys.length > 0) await cleaner.del(keys);
  await cleaner.close();
});

const send = (sessionKey: string | undefined, message: string) => sendMessage(call, { token: ada.token, agent: "ada", message, ...(sessionKey ? { sessionKey } : {}) });
const urlOf = (live: ClusterMember[], memberId: string | undefined) => live.find((member) => member.memberId === memberId)?.url;

describe.skipIf(!reachable)("routing sessions over a cluster of gateways", () => {
  it("keeps each session on its gateway, and moves a dead gateway's sessions to the others, where they carry on", async () => {
    const live = await liveMembers(3);
    const ids = live.map((member) => member.memberId);
    expect(live.map((member) => member.url).sort()).toEqual(gateways.map((gateway) => gateway.url).sort());
    // Every gateway shows the same list to operators.
    const listed = ClusterMembers.parse(await (await fetch(`${gateways[1]!.url}/v1/cluster/members`, { headers: { authorization: `Bearer ${TOKEN}` } })).json());
    expect(listed.members.map((member) => member.memberId)).toEqual(ids);

    // 12 new sessions (the platform names each), two messages each.
    const sessions = await Promise.all(
      Array.from({ length: 12 }, async (_, index) => {
        const first = await send(undefined, `hello ${index}`);
        expect(first.status).toBe(200);
        expect(first.text).toContain('"status":"ok"');
        const key = first.sessionKey!;
        const second = await send(key, `again ${index}`);
        expect(second.text).toContain('"status":"ok"');
        return key;
      }),
    );
    const expected = (key: string, among: string[]) => urlOf(live, rendezvousOrder(sessionRoutingKey(ada.tenantId, "ada", key), among)[0]);
    for (const key of sessions) {
      const used = routedTo.filter((entry) => entry.kind === "start" && entry.sessionKey === key).map((entry) => entry.url);
      expect(used).toHaveLength(2);
      expect(new Set(used)).toEqual(new Set([expected(key, ids)]));
    }
    // Spread over the cluster, not all on one.
    expect(new Set(sessions.map((key) => expected(key, ids))).size).toBeGreaterThan(1);

    // The gateway with the most sessions dies (SIGKILL: it stays listed until its liveness key expires);
    // not the first, whose stop() removes the shared data dir.
    const counts = new Map<string, number>(gateways.slice(1).map((gateway) => [gateway.url, 0]));
    for (const key of sessions) {
      const url = expected(key, ids)!;
      if (counts.has(url)) counts.set(url, counts.get(url)! + 1);
    }
    const victimUrl = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    expect(counts.get(victimUrl)).toBeGreaterThan(0);
    const victim = gateways.find((gateway) => gateway.url === victimUrl)!;
    victim.child.kill("SIGKILL");
    await victim.stop();
    const survivors = live.filter((member) => member.url !== victimUrl).map((member) => member.memberId);

    routedTo.length = 0;
    const third = await Promise.all(sessions.map((key, index) => send(key, `after the crash ${index}`)));
    for (const [index, key] of sessions.entries()) {
      expect(third[index]!.status, third[index]!.text).toBe(200);
      expect(third[index]!.text).toContain('"status":"ok"');
      const landed = routedTo.filter((entry) => entry.kind === "start" && entry.sessionKey === key && entry.url !== victimUrl).map((entry) => entry.url);
      // Only the dead gateway's sessions moved, each to its next choice; the others stayed.
      expect(landed).toEqual([expected(key, survivors)]);
      if (expected(key, ids) !== victimUrl) expect(landed).toEqual([expected(key, ids)]);
      const history = SessionHistory.parse(await (await call("GET", `/api/agents/ada/sessions/${key}`, { token: ada.token })).json());
      const said = history.entries.flatMap((entry) => (entry.type === "user" ? [entry.content[0]?.text] : []));
      expect(said).toEqual([`hello ${index}`, `again ${index}`, `after the crash ${index}`]);
    }
  }, 120_000);

  it("resumes a stream through another gateway when the one carrying it dies mid-run, every event once", async () => {
    gateways.push(await startGateway(gateways[0]!.dataDir));
    const live = await liveMembers(3);
    // The run executes on one gateway; the platform may only stream through the two others.
    const executor = live[0]!;
    const streamers: GatewayMembers = {
      list: async () => live.filter((member) => member.memberId !== executor.memberId && gateways.some((gateway) => gateway.url === member.url && gateway.child.exitCode === null && gateway.child.signalCode === null)),
      invalidate: () => undefined,
      close: async () => undefined,
    };
    const routed = createRoutedGatewayClient({ hookToken: TOKEN, fallbackUrl: executor.url, members: streamers, connect: recordingClient });
    const response = await fetch(`${executor.url}/v1/agents/ada/runs`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "x-tenant-id": ada.tenantId, "content-type": "application/json" },
      body: JSON.stringify({ message: "Tell me a long story", sessionKey: "resumed-story" }),
    });
    const started = RunInfo.parse(await response.json());
    routedTo.length = 0;
    const { subscription } = await routed.streams.subscribe(ada.tenantId, started.runId, 0);
    const events: RunEvent[] = [];
    let lost = false;
    const ended = new Promise<void>((resolve) => subscription.onRunEnd(() => resolve()));
    subscription.attach({ event: (event) => events.push(event), lost: () => (lost = true) });
    while (events.length < 3) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(events.some((event) => event.type === "run-end")).toBe(false);

    const carrier = gateways.find((gateway) => gateway.url === routedTo[0]!.url)!;
    expect(carrier.url).not.toBe(executor.url);
    carrier.child.kill("SIGKILL");
    await ended;
    expect(lost).toBe(false);
    // Subscribed again through the other streamer (after a refused attempt at the dead one, while it was still listed).
    expect(routedTo[0]?.url).toBe(carrier.url);
    expect(routedTo.at(-1)?.url).toBe(streamerOtherThan(carrier.url));
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    routed.streams.close();

    function streamerOtherThan(url: string) {
      return live.find((member) => member.memberId !== executor.memberId && member.url !== url)?.url;
    }
  }, 120_000);
});
