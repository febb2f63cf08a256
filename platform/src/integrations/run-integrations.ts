import type { RunIntegrations } from "@workforce/protocol";
import { RunIntegrations as RunIntegrationsSchema } from "@workforce/protocol";
import type { Selectable } from "kysely";
import { jsonArrayFrom } from "kysely/helpers/postgres";
import type { AgentToolGrantsTable, AgentToolModesTable, ModelKeysTable } from "../db/schema";
import { withTenant, type Database, type TenantTransaction } from "../db/scopes";

/**
 * The agent's rows several parts build on (its tool grants and modes, the organisation's model
 * keys), read for all of them in ONE statement: a message's admission waits for each round trip
 * to the database in turn (four became one).
 */
export interface AgentIntegrationRows {
  grants: Pick<Selectable<AgentToolGrantsTable>, "source" | "server_id" | "tool" | "mode">[];
  toolModes: Pick<Selectable<AgentToolModesTable>, "tool" | "mode">[];
  modelKeys: Pick<Selectable<ModelKeysTable>, "provider" | "base_url">[];
}

async function readAgentRows(trx: TenantTransaction, tenantId: string, agent: string): Promise<AgentIntegrationRows> {
  return trx
    .selectNoFrom((eb) => [
      jsonArrayFrom(eb.selectFrom("agent_tool_grants").select(["source", "server_id", "tool", "mode"]).where("tenant_id", "=", tenantId).where("agent_slug", "=", agent).orderBy("created_at").orderBy("id")).as("grants"),
      jsonArrayFrom(eb.selectFrom("agent_tool_modes").select(["tool", "mode"]).where("tenant_id", "=", tenantId).where("agent_slug", "=", agent).orderBy("tool")).as("toolModes"),
      jsonArrayFrom(eb.selectFrom("model_keys").select(["provider", "base_url"]).where("tenant_id", "=", tenantId).orderBy("provider")).as("modelKeys"),
    ])
    .executeTakeFirstOrThrow();
}

/** Fills a part's share of the draft, outside any transaction (it may call out: refresh a token, list tools). */
export type RunIntegrationFill = (draft: RunIntegrations) => void | Promise<void>;

/**
 * One kind of integration's share of a run (MCP servers, Composio, web tools, model keys), in two
 * phases so that a message's reads share one transaction (decision 051): `read` reads the agent's
 * grants and the tenant's secrets in the caller's tenant transaction and calls nobody; the fill it
 * returns does the rest after the transaction ended.
 */
export interface RunIntegrationPart {
  /** `rows`: what was read for every part already; a part reads more only when it needs more. */
  read(trx: TenantTransaction, tenantId: string, agent: string, rows: AgentIntegrationRows): Promise<RunIntegrationFill>;
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
    const rows = await readAgentRows(trx, tenantId, agent);
    for (const part of parts) fills.push(await part.read(trx, tenantId, agent, rows));
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
