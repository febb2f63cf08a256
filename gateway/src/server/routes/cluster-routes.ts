import { AppError, type ClusterMembers } from "@workforce/protocol";
import { Hono } from "hono";
import type { Membership } from "../../coordination/membership";
import type { GatewayEnv } from "../gateway-env";

export const CLUSTER_PATH = "/v1/cluster";

/** `GET /v1/cluster/members`: the live gateways as this one sees them (operators, doctor); hook token, no tenant. */
export function clusterRoutes(membership: Pick<Membership, "memberId" | "clustered" | "members">): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/members", async (c) => {
    let members;
    try {
      members = await membership.members();
    } catch (error) {
      throw new AppError("gateway_unavailable", "the cluster membership (Redis) cannot be read right now", { retryable: true, cause: error });
    }
    const body: ClusterMembers = { clustered: membership.clustered, self: membership.memberId, members };
    return c.json(body);
  });
  return app;
}
