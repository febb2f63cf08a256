import type { RunIntegrations } from "@workforce/protocol";
import { RunIntegrations as RunIntegrationsSchema } from "@workforce/protocol";
import { withTenant, type Database, type TenantTransaction } from "../db/scopes";

/** Fills a part's share of the draft, outside any transaction (it may call out: refresh a token, list tools). */
export type RunIntegrationFill = (draft: RunIntegrations) => void | Promise<void>;

/**
 * One kind of integration's share of a run (MCP servers, Composio, web tools, model keys), in two
 * phases so that a message's reads share one transaction (decision 051): `read` reads the agent's
 * grants and the tenant's secrets in the caller's tenant transaction and calls nobody; the fill it
 * returns does the rest after the transaction ended.
 */
export interface RunIntegrationPart {
  read(trx: TenantTransaction, tenantId: string, agent: string): Promise<RunIntegrationFill>;
}

/** Builds what one run of an agent may use, from every part; sent to the gateway with the message. */
export interface RunIntegrationsResolver {
  /** In one tenant transaction of its own, then the parts' outgoing calls. */
  forRun(tenantId: string, agent: string): Promise<RunIntegrations>;
  /** Every part's reads in the caller's tenant transaction; `finish` builds the share once that transaction ended. */
  readIn(trx: TenantTransaction, tenantId: string, agent: string): Promise<{ finish(): Promise<RunIntegrations> }>;
}

export function createRunIntegrations(db: Database, parts: readonly RunIntegrationPart[]): RunIntegrationsResolver {
  async function readIn(trx: TenantTransaction, tenantId: string, agent: string) {
    // One at a time: a transaction's statements run in turn on its one connection anyway.
    const fills: RunIntegrationFill[] = [];
    for (const part of parts) fills.push(await part.read(trx, tenantId, agent));
    return {
      async finish() {
        const draft = RunIntegrationsSchema.parse({});
        for (const fill of fills) await fill(draft);
        return draft;
      },
    };
  }
  return {
    readIn,
    async forRun(tenantId, agent) {
      const read = await withTenant(db, tenantId, (trx) => readIn(trx, tenantId, agent));
      return read.finish();
    },
  };
}
