import type { RunIntegrations } from "@workforce/protocol";
import { RunIntegrations as RunIntegrationsSchema } from "@workforce/protocol";

/**
 * One kind of integration's share of a run (MCP servers, Composio, web tools, model keys): it
 * reads the agent's grants and the tenant's secrets and fills its part of the draft.
 */
export interface RunIntegrationPart {
  contribute(tenantId: string, agent: string, draft: RunIntegrations): Promise<void>;
}

/** Builds what one run of an agent may use, from every part; sent to the gateway with the message. */
export interface RunIntegrationsResolver {
  forRun(tenantId: string, agent: string): Promise<RunIntegrations>;
}

export function createRunIntegrations(parts: readonly RunIntegrationPart[]): RunIntegrationsResolver {
  return {
    async forRun(tenantId, agent) {
      const draft = RunIntegrationsSchema.parse({});
      for (const part of parts) await part.contribute(tenantId, agent, draft);
      return draft;
    },
  };
}
