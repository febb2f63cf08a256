import { ClusterMembers } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../../test-support/test-gateway";

const harnesses: TestGateway[] = [];
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
});

describe("GET /v1/cluster/members without REDIS_URL", () => {
  it("lists the lone gateway itself once it listens, for the hook token holder and without a tenant", async () => {
    const harness = await startTestGateway({ hookToken: "lone-gateway-token", memberId: "host-1-abcdef" });
    harnesses.push(harness);
    const before = ClusterMembers.parse(await (await harness.request("GET", "/v1/cluster/members", { tenant: null })).json());
    expect(before).toEqual({ clustered: false, self: "host-1-abcdef", members: [] });
    await harness.gateway.join("http://127.0.0.1:18789");
    const after = ClusterMembers.parse(await (await harness.request("GET", "/v1/cluster/members", { tenant: null })).json());
    expect(after.members.map(({ memberId, url }) => ({ memberId, url }))).toEqual([{ memberId: "host-1-abcdef", url: "http://127.0.0.1:18789" }]);
    expect((await harness.request("GET", "/v1/cluster/members", { tenant: null, headers: { authorization: "Bearer nope" } })).status).toBe(401);
  });
});
