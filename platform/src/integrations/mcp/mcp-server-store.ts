import { AppError, McpCachedTool, UUID_PATTERN, type McpServerView } from "@workforce/protocol";
import type { Selectable } from "kysely";
import { z } from "zod";
import type { McpServersTable } from "../../db/schema";
import type { TenantTransaction } from "../../db/scopes";

export type McpServerRow = Selectable<McpServersTable>;

const HeaderHints = z.array(z.object({ name: z.string(), hint: z.string() }));
const CachedTools = z.array(McpCachedTool);

/** Parsed where read (jsonb from either driver); a cache of another shape reads as empty. */
export function cachedTools(row: Pick<McpServerRow, "tools">): McpCachedTool[] {
  const parsed = CachedTools.safeParse(typeof row.tools === "string" ? JSON.parse(row.tools) : row.tools);
  return parsed.success ? parsed.data : [];
}

function headerHints(row: Pick<McpServerRow, "header_hints">): { name: string; hint: string }[] {
  const parsed = HeaderHints.safeParse(typeof row.header_hints === "string" ? JSON.parse(row.header_hints) : row.header_hints);
  return parsed.success ? parsed.data : [];
}

/** The server as answers show it: header names and hints, never values. */
export function toView(row: McpServerRow, oauthConnected: boolean): McpServerView {
  return {
    id: row.id,
    name: row.name,
    namespace: row.namespace,
    url: row.url,
    transport: row.transport,
    auth: row.auth,
    headers: headerHints(row),
    oauth: row.auth === "oauth" ? { connected: oauthConnected } : null,
    status: row.status,
    lastError: row.last_error,
    tools: cachedTools(row),
    toolsRefreshedAt: row.tools_refreshed_at ? row.tools_refreshed_at.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

export const notFound = () => new AppError("mcp_server_not_found", "No such MCP server");

/** The server with this id in the transaction's organisation; another organisation's is 404 as if it did not exist. */
export async function findServer(trx: TenantTransaction, tenantId: string, id: string, options: { lock?: boolean } = {}): Promise<McpServerRow> {
  if (!UUID_PATTERN.test(id)) throw notFound();
  let query = trx.selectFrom("mcp_servers").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id);
  if (options.lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw notFound();
  return row;
}

/** A short, safe line for `last_error`: no header values can reach it (they are never in the messages we build). */
export function errorLine(message: string): string {
  return message.replace(/\s+/g, " ").slice(0, 500);
}
