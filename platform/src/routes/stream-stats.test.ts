import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSystem } from "../db/scopes";
import type { StreamStatsSnapshot } from "../stream-stats";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";

const REPLY = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen";

let gateway: FakeGateway;
let first: TestPlatform;
let second: TestPlatform;
let ada: { token: string; tenantId: string };
let bob: { token: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: REPLY, eventDelayMs: 40 });
  first = await createTestPlatform({ gatewayUrl: gateway.url });
  // A second process behind the same load balancer: same database, its own memory.
  second = await createTestPlatform({ gatewayUrl: gateway.url, database: first.database });
  ada = await signUp(first, "ada@example.com");
  bob = await signUp(first, "bob@example.com");
  await caller(first)("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } });
  await caller(first)("POST", "/api/agents", { token: bob.token, body: { name: "Bob", role: "Builder" } });
});
afterAll(async () => {
  await second.close();
  await first.close();
  await gateway.close();
});

async function statsOf(platform: TestPlatform, token: string): Promise<StreamStatsSnapshot> {
  const response = await caller(platform)("GET", "/api/stream/stats", { token });
  expect(response.status).toBe(200);
  return (await response.json()) as StreamStatsSnapshot;
}

/** Reads `count` SSE frames and leaves the stream open. */
async function readFrames(reader: ReadableStreamDefaultReader<Uint8Array>, count: number): Promise<void> {
  const decoder = new TextDecoder();
  let text = "";
  while ((text.match(/\nevent: /g) ?? []).length < count) {
    const { done, value } = await reader.read();
    if (done) throw new Error("stream ended early");
    text += `\n${decoder.decode(value, { stream: true })}`;
  }
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  for (;;) if ((await reader.read()).done) return;
}

async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5_000;
  let value = await read();
  while (!accept(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await read();
  }
  return value;
}

describe("cluster-wide stream stats", () => {
  it("counts a stream open on one instance when asked through another, per tenant", async () => {
    const response = await caller(first)("POST", "/api/agents/ada/messages", { token: ada.token, body: { message: "Count" } });
    const reader = response.body!.getReader();
    await readFrames(reader, 3);

    // Another instance hears of a stream within a publish gap (a second), not necessarily at once.
    const fromSecond = await eventually(
      () => statsOf(second, ada.token),
      (stats) => stats.openStreams === 1,
    );
    expect(fromSecond.instanceId).toBe(second.stats.instanceId);
    expect(fromSecond.instances.map((instance) => instance.id).sort()).toEqual([first.stats.instanceId, second.stats.instanceId].sort());
    expect(fromSecond).toMatchObject({ openStreams: 1, tenantOpenStreams: 1, tenantsStreaming: 1, streamsStarted: 1 });
    expect(fromSecond.instances.find((instance) => instance.id === first.stats.instanceId)).toMatchObject({ openStreams: 1, tenantOpenStreams: 1 });

    // Bob sees the cluster's total but not Ada's share: his own count is zero.
    const forBob = await statsOf(second, bob.token);
    expect(forBob).toMatchObject({ openStreams: 1, tenantOpenStreams: 0, tenantsStreaming: 1 });
    expect(forBob.instances.every((instance) => instance.tenantOpenStreams === 0)).toBe(true);

    await drain(reader);
    const after = await eventually(
      () => statsOf(second, ada.token),
      (stats) => stats.openStreams === 0,
    );
    expect(after).toMatchObject({ openStreams: 0, tenantOpenStreams: 0, tenantsStreaming: 0 });
    expect(after.eventsSent).toBeGreaterThanOrEqual(REPLY.split(" ").length + 3);
    expect(after.ttftMs.samples).toBe(1);
  });

  it("pools time-to-first-token samples of every instance", async () => {
    await (await caller(second)("POST", "/api/agents/bob/messages", { token: bob.token, body: { message: "Hi" } })).text();
    const stats = await eventually(
      () => statsOf(first, bob.token),
      (value) => value.ttftMs.samples === 2,
    );
    expect(stats.ttftMs.samples).toBe(2);
    expect(stats.ttftMs.median).toBeGreaterThan(0);
    expect(stats.ttftMs.p95).toBeGreaterThanOrEqual(stats.ttftMs.median!);
    expect(stats.streamsStarted).toBe(2);
  });

  it("ignores an instance whose heartbeat stopped, and forgets one that shut down", async () => {
    await withSystem(first.database.system, (trx) =>
      trx
        .insertInto("stream_instances")
        .values({ instance_id: "crashed", open_streams: 7, streams_started: 9, events_sent: 99, resumes: 0, heartbeat_at: new Date(Date.now() - 120_000) })
        .execute(),
    );
    // The previous test's stream closed on the second instance: heard of within a publish gap.
    const stats = await eventually(
      () => statsOf(first, ada.token),
      (value) => value.openStreams === 0,
    );
    expect(stats.instances.map((instance) => instance.id)).not.toContain("crashed");
    expect(stats.openStreams).toBe(0);

    await second.stats.stop();
    const alone = await statsOf(first, ada.token);
    expect(alone.instances.map((instance) => instance.id)).toEqual([first.stats.instanceId]);
  });
});
