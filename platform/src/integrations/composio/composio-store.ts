import type { AgentComposioToolkit, ComposioConnectionStatus, ComposioConnectionView } from "@workforce/protocol";
import type { Selectable } from "kysely";
import type { ComposioConnectionsTable, TenantTransaction } from "../../db/schema";

/** The organisation's Composio rows (migration 013); every function runs in the caller's tenant transaction. */

type ConnectionRow = Selectable<ComposioConnectionsTable>;

const CONNECTION_COLUMNS = ["id", "toolkit", "connected_account_id", "status", "created_by", "created_at", "updated_at"] as const;

export function connectionView(row: Pick<ConnectionRow, (typeof CONNECTION_COLUMNS)[number]>): ComposioConnectionView {
  return {
    id: row.id,
    toolkit: row.toolkit,
    status: row.status,
    connectedAccountId: row.connected_account_id,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export function listConnections(trx: TenantTransaction) {
  return trx.selectFrom("composio_connections").select(CONNECTION_COLUMNS).orderBy("toolkit").execute();
}

export function connectionById(trx: TenantTransaction, id: string) {
  return trx.selectFrom("composio_connections").select(CONNECTION_COLUMNS).where("id", "=", id).executeTakeFirst();
}

export function connectionByToolkit(trx: TenantTransaction, toolkit: string) {
  return trx.selectFrom("composio_connections").select(CONNECTION_COLUMNS).where("toolkit", "=", toolkit).executeTakeFirst();
}

/** A new connection under way (replacing the toolkit's earlier one that never became active). */
export async function savePendingConnection(
  trx: TenantTransaction,
  input: { tenantId: string; toolkit: string; connectedAccountId: string; stateHash: string; stateExpiresAt: Date; userId: string; now: Date },
) {
  await trx.deleteFrom("composio_connections").where("toolkit", "=", input.toolkit).execute();
  return trx
    .insertInto("composio_connections")
    .values({
      tenant_id: input.tenantId,
      toolkit: input.toolkit,
      connected_account_id: input.connectedAccountId,
      status: "pending",
      state_hash: input.stateHash,
      state_expires_at: input.stateExpiresAt,
      created_by: input.userId,
      created_at: input.now,
      updated_at: input.now,
    })
    .returning(CONNECTION_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** Takes the callback's state (single use): the connection it was issued for, while the state is valid. */
export function takeState(trx: TenantTransaction, stateHash: string, now: Date) {
  return trx
    .updateTable("composio_connections")
    .set({ state_hash: null, state_expires_at: null })
    .where("state_hash", "=", stateHash)
    .where("state_expires_at", ">", now)
    .returning(["id", "connected_account_id", "toolkit", "created_by"])
    .executeTakeFirst();
}

export async function setStatus(trx: TenantTransaction, id: string, status: ComposioConnectionStatus, now: Date): Promise<void> {
  await trx.updateTable("composio_connections").set({ status, updated_at: now }).where("id", "=", id).where("status", "!=", status).execute();
}

export async function deleteConnection(trx: TenantTransaction, id: string): Promise<boolean> {
  const result = await trx.deleteFrom("composio_connections").where("id", "=", id).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function agentExists(trx: TenantTransaction, agent: string): Promise<boolean> {
  return (await trx.selectFrom("agents").select("slug").where("slug", "=", agent).executeTakeFirst()) !== undefined;
}

export async function agentToolkits(trx: TenantTransaction, agent: string): Promise<AgentComposioToolkit[]> {
  const rows = await trx.selectFrom("composio_agent_tools").select(["toolkit", "tools", "mode"]).where("agent_slug", "=", agent).orderBy("toolkit").execute();
  return rows.map((row) => ({ toolkit: row.toolkit, mode: row.mode, tools: row.tools }));
}

export async function replaceAgentToolkits(
  trx: TenantTransaction,
  input: { tenantId: string; agent: string; toolkits: readonly AgentComposioToolkit[]; userId: string; now: Date },
): Promise<void> {
  await trx.deleteFrom("composio_agent_tools").where("agent_slug", "=", input.agent).execute();
  if (input.toolkits.length === 0) return;
  await trx
    .insertInto("composio_agent_tools")
    .values(
      input.toolkits.map((choice) => ({
        tenant_id: input.tenantId,
        agent_slug: input.agent,
        toolkit: choice.toolkit,
        tools: choice.tools === null ? null : [...new Set(choice.tools)],
        mode: choice.mode,
        updated_by: input.userId,
        updated_at: input.now,
      })),
    )
    .execute();
}

/** The agent's toolkits with the organisation's own active connection of each (toolkits without one are left out). */
export function runnableToolkits(trx: TenantTransaction, agent: string) {
  return trx
    .selectFrom("composio_agent_tools as grant")
    .innerJoin("composio_connections as connection", (join) =>
      join.onRef("connection.tenant_id", "=", "grant.tenant_id").onRef("connection.toolkit", "=", "grant.toolkit"),
    )
    .select(["grant.toolkit", "grant.tools", "grant.mode", "connection.connected_account_id"])
    .where("grant.agent_slug", "=", agent)
    .where("connection.status", "=", "active")
    .orderBy("grant.toolkit")
    .execute();
}
