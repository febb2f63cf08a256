import { randomUUID } from "node:crypto";
import { clusterKeys, ClusterMembers } from "@workforce/protocol";
import { createClient } from "redis";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../logger";
import { startTestGateway, type TestGateway } from "../../test-support/test-gateway";
import { newMemberId } from "../member-id";
import type { Membership } from "../membership";
import { createRedisMembership } from "./redis-membership";
import { deleteRedisKeys, REDIS_URL as TEST_REDIS_URL, redisForTests } from "../../test-support/redis";

const REDIS_URL = TEST_REDIS_URL;
const prefix = `workforce-test:${randomUUID()}:`;
const keys = clusterKeys(prefix);
const reachable = await redisForTests("membership");

const redis = createClient({ url: REDIS_URL });
if (reachable) await redis.connect();
const open: (Membership | TestGateway)[] = [];
afterEach(async () => {
  for (const each of open.splice(0).reverse()) await ("cleanup" in each ? each.cleanup() : each.leave());
});
afterAll(async () => {
  if (!reachable) return;
  await redis.close();
  await deleteRedisKeys(prefix);
});

const member = (ttlMs = 10_000) => {
  const membership = createRedisMembership({ url: REDIS_URL, memberId: newMemberId(), logger: silentLogger, keyPrefix: prefix, ttlMs });
  open.push(membership);
  return membership;
};

/** Waits for a condition (never a fixed sleep): the liveness TTL is the clock here. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.skipIf(!reachable)("cluster membership in Redis", () => {
  it("lists every joined gateway with its URL, and drops one at once when it leaves cleanly", async () => {
    const [first, second] = [member(), member()];
    await first.join("http://127.0.0.1:1111");
    await second.join("http://127.0.0.1:2222");
    expect(first.memberId).toMatch(/^[A-Za-z0-9._-]+-\d+-[0-9a-f]{6}$/);
    const seen = await first.members();
    expect(seen.map(({ memberId, url }) => ({ memberId, url }))).toEqual(
      [
        { memberId: first.memberId, url: "http://127.0.0.1:1111" },
        { memberId: second.memberId, url: "http://127.0.0.1:2222" },
      ].sort((a, b) => a.memberId.localeCompare(b.memberId)),
    );
    await second.leave();
    expect((await first.members()).map((each) => each.memberId)).toEqual([first.memberId]);
    expect(await redis.exists(keys.liveness(second.memberId))).toBe(0);
    expect(Number(await redis.hExists(keys.members, second.memberId))).toBe(0);
  });

  it("keeps a live member listed past its TTL (heartbeats), and prunes one that died without leaving once its liveness key expires", async () => {
    // Heartbeats every ~330 ms; a machine under load can delay one, so the TTL leaves room for that.
    const alive = member(1_000);
    await alive.join("http://127.0.0.1:3333");
    // What a SIGKILLed gateway leaves behind: its entry, and a liveness key nobody refreshes.
    const deadId = newMemberId("dead-host", 4242);
    await redis.hSet(keys.members, deadId, JSON.stringify({ memberId: deadId, url: "http://127.0.0.1:4444", startedAt: new Date().toISOString() }));
    await redis.set(keys.liveness(deadId), "1", { PX: 300 });
    expect((await alive.members()).map((each) => each.memberId)).toContain(deadId);
    const startedAt = Date.now();
    const after = await until(
      () => alive.members(),
      (members) => !members.some((each) => each.memberId === deadId),
    );
    expect(after.map((each) => each.memberId)).toEqual([alive.memberId]);
    // The reader pruned the dead entry from the HASH too; the live one stays listed over several of its TTLs.
    expect(Number(await redis.hExists(keys.members, deadId))).toBe(0);
    await until(async () => Date.now() - startedAt, (elapsed) => elapsed > 2_500, 4_000);
    expect((await alive.members()).map((each) => each.memberId)).toEqual([alive.memberId]);
  });

  it("serves the list on GET /v1/cluster/members to the hook token holder, without a tenant", async () => {
    const gateway = await startTestGateway({ hookToken: "cluster-secret-token", config: { redisUrl: REDIS_URL, redisKeyPrefix: prefix } });
    open.push(gateway);
    await gateway.gateway.join("http://gateway-a.internal:18789");
    const other = member();
    await other.join("http://gateway-b.internal:18789");
    expect((await gateway.request("GET", "/v1/cluster/members", { tenant: null, headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const response = await gateway.request("GET", "/v1/cluster/members", { tenant: null });
    expect(response.status).toBe(200);
    const body = ClusterMembers.parse(await response.json());
    expect(body.clustered).toBe(true);
    expect(body.self).toBe(gateway.gateway.membership.memberId);
    expect(body.members.map((each) => each.url).sort()).toEqual(["http://gateway-a.internal:18789", "http://gateway-b.internal:18789"]);
    // Closing the gateway takes it out of the list before its runs wind down.
    await gateway.gateway.close();
    expect((await other.members()).map((each) => each.url)).toEqual(["http://gateway-b.internal:18789"]);
  });
});
