import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { ClusterMember } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { freePort } from "../test-support/free-port";
import { createRedisGatewayMembers, type GatewayMembers } from "./gateway-members";
import { rendezvousOrder, sessionRoutingKey } from "./rendezvous";
import { createRoutedGatewayClient } from "./routed-gateway-client";

const TENANT = "11111111-1111-4111-8111-111111111111";
let fallback: FakeGateway;
let other: FakeGateway;
beforeAll(async () => {
  [fallback, other] = await Promise.all([startFakeGateway(), startFakeGateway()]);
});
afterAll(async () => {
  await Promise.all([fallback.close(), other.close()]);
});

/** A member list the test sets, counting re-reads asked for. */
function listed(initial: ClusterMember[]): GatewayMembers & { set(members: ClusterMember[]): void; invalidations: number } {
  let current = initial;
  return {
    invalidations: 0,
    list: async () => current,
    invalidate() {
      this.invalidations += 1;
    },
    close: async () => undefined,
    set(members) {
      current = members;
    },
  };
}
const member = (memberId: string, url: string): ClusterMember => ({ memberId, url, startedAt: new Date(0).toISOString() });
const hits = (gateway: FakeGateway) => gateway.requests.filter((request) => request.path === "/v1/agents").length;

describe("the platform's routed gateway client", () => {
  it("uses CLAWDBOT_GATEWAY_URL while no member is known, and the live members once they are", async () => {
    const members = listed([]);
    const client = createRoutedGatewayClient({ hookToken: undefined, fallbackUrl: fallback.url, members });
    const [before, beforeOther] = [hits(fallback), hits(other)];
    await client.listAgents(TENANT);
    expect([hits(fallback) - before, hits(other) - beforeOther]).toEqual([1, 0]);
    members.set([member("gw-other", other.url)]);
    await client.listAgents(TENANT);
    expect([hits(fallback) - before, hits(other) - beforeOther]).toEqual([1, 1]);
    client.streams.close();
  });

  it("skips a listed gateway that refuses the connection (crashed, still listed) for the next in the key's order, and re-reads the list", async () => {
    const deadUrl = `http://127.0.0.1:${await freePort()}`;
    // Member ids chosen so the dead one comes first for this tenant.
    const ids = ["gw-a", "gw-b", "gw-c", "gw-d"];
    const [deadId, liveId] = rendezvousOrder(TENANT, ids) as [string, string];
    const members = listed([member(deadId, deadUrl), member(liveId, other.url)]);
    const client = createRoutedGatewayClient({ hookToken: undefined, fallbackUrl: fallback.url, members });
    const before = hits(other);
    expect(await client.listAgents(TENANT)).toEqual(expect.any(Array));
    expect(hits(other) - before).toBe(1);
    expect(members.invalidations).toBe(1);
    client.streams.close();
  });

  it("tries CLAWDBOT_GATEWAY_URL last, and answers 503 gateway_unavailable when nothing can be reached", async () => {
    const members = listed([member("gw-x", `http://127.0.0.1:${await freePort()}`)]);
    const client = createRoutedGatewayClient({ hookToken: undefined, fallbackUrl: `http://127.0.0.1:${await freePort()}`, members });
    await expect(client.listAgents(TENANT)).rejects.toMatchObject({ code: "gateway_unavailable", status: 503 });
  });

  it("repeats a send on the next gateway when the first dies with it in flight, under one idempotency key", async () => {
    // A gateway that takes the WebSocket and dies as the send arrives: the request may have reached
    // it, so only an idempotency key (the cluster's shared keys) makes repeating it safe.
    const seen: { method: string; idempotencyKey?: string }[] = [];
    const dying = new WebSocketServer({ port: 0, host: "127.0.0.1" });
    await new Promise((resolve) => dying.once("listening", resolve));
    dying.on("connection", (socket) =>
      socket.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString("utf8")) as { method: string; params: { idempotencyKey?: string } };
        seen.push({ method: frame.method, ...(frame.params.idempotencyKey ? { idempotencyKey: frame.params.idempotencyKey } : {}) });
        socket.terminate();
      }),
    );
    const dyingUrl = `http://127.0.0.1:${(dying.address() as AddressInfo).port}`;
    try {
      const created = await fetch(`${other.url}/v1/agents`, { method: "POST", headers: { "content-type": "application/json", "x-tenant-id": TENANT }, body: JSON.stringify({ name: "Ada", role: "Analyst" }) });
      expect(created.status).toBe(201);
      const key = sessionRoutingKey(TENANT, "ada", "s-1");
      const ids = ["gw-a", "gw-b", "gw-c", "gw-d", "gw-e"];
      const [dyingId, liveId] = rendezvousOrder(key, ids) as [string, string];
      const members = listed([member(dyingId, dyingUrl), member(liveId, other.url)]);
      const client = createRoutedGatewayClient({ hookToken: undefined, fallbackUrl: fallback.url, members });
      const started = await client.streams.startRun(TENANT, "ada", { message: "hello", sessionKey: "s-1" });
      expect(started.info).toMatchObject({ agent: "ada", sessionKey: "s-1" });
      started.subscription.detach();
      expect(seen).toEqual([{ method: "chat.send", idempotencyKey: expect.stringMatching(/^platform-send:/) }]);
      expect(other.runs.get(started.info.runId)).toMatchObject({ sessionKey: "s-1" });
      client.streams.close();
    } finally {
      dying.close();
    }
  });

  it("keeps routing over the last known list while Redis cannot be read", async () => {
    const errors: string[] = [];
    const members = createRedisGatewayMembers({ url: `redis://127.0.0.1:${await freePort()}`, logError: (message) => errors.push(message) });
    expect(await members.list()).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
    await members.close();
  });
});
