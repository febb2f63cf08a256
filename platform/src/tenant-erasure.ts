import { AppError } from "@workforce/protocol";
import type { GatewayClient } from "./gateway-client";
import type { Tenancy } from "./tenancy";

export interface ErasureReport {
  tenantId: string;
  /** Agents the gateway held for the tenant. */
  agents: number;
  /**
   * "tenant": the gateway erased the tenant's whole data directory. "agents": the gateway has no
   * tenant-wide erasure yet, so each agent was deleted (its `agents/{slug}` and `workspace/{slug}`);
   * anything else under the tenant's directory is left for the operator.
   */
  gatewayData: "tenant" | "agents";
}

/**
 * Erases a tenant: first its data in the gateway, then its database rows. If the gateway fails
 * the rows stay, so the owner can simply try again; every step is safe to repeat.
 */
export async function eraseTenant(
  deps: { gateway: GatewayClient; tenancy: Tenancy; /** What the integrations hold outside our database (Composio's connected accounts). */ eraseIntegrations?: (tenantId: string) => Promise<void> },
  tenantId: string,
): Promise<ErasureReport> {
  // No platform process pushes its policy any more: a push after the gateway's erasure would
  // leave a `{tenant}/limits.json` behind. (It is marked again if the erasure fails and it is used.)
  await deps.tenancy.withdrawPolicy(tenantId);
  const agents = await deps.gateway.listAgents(tenantId);
  let gatewayData: ErasureReport["gatewayData"] = "tenant";
  if ((await deps.gateway.deleteTenantData(tenantId)) === "unsupported") {
    gatewayData = "agents";
    for (const agent of agents) {
      await deps.gateway.deleteAgent(tenantId, agent.slug).catch((error: unknown) => {
        if (!(error instanceof AppError && error.code === "agent_not_found")) throw error;
      });
    }
  }
  // Before the rows that name them: a connected account left at Composio would keep the app's tokens.
  await deps.eraseIntegrations?.(tenantId);
  await deps.tenancy.deleteTenant(tenantId);
  return { tenantId, agents: agents.length, gatewayData };
}
