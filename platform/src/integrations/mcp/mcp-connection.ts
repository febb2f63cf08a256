import { createHash } from "node:crypto";
import type { RunMcpServer, ToolGrant } from "@workforce/protocol";
import type { TenantTransaction } from "../../db/scopes";
import type { TenantSecrets } from "../../secrets/tenant-secrets";
import type { McpOAuth, StoredOAuth } from "./mcp-oauth";
import { StoredOAuth as StoredOAuthSchema } from "./mcp-oauth";
import { revealJson, secretNames, StoredHeaders } from "./mcp-secrets";
import type { McpServerRow } from "./mcp-server-store";

/** What a server's requests carry, decrypted: its headers, and its OAuth connection when it has one. */
export interface McpCredentials {
  headers: Record<string, string>;
  oauth: StoredOAuth | undefined;
}

/** Reads a server's credentials in the caller's transaction (no outgoing call). */
export async function readCredentials(secrets: TenantSecrets | undefined, trx: TenantTransaction, tenantId: string, row: McpServerRow): Promise<McpCredentials> {
  if (!secrets || row.auth === "none") return { headers: {}, oauth: undefined };
  if (row.auth === "headers") return { headers: (await revealJson(secrets, trx, tenantId, secretNames.headers(row.id), StoredHeaders)) ?? {}, oauth: undefined };
  return { headers: {}, oauth: await revealJson(secrets, trx, tenantId, secretNames.oauth(row.id), StoredOAuthSchema) };
}

/**
 * The headers to send, with a usable OAuth token (refreshed when it expired); undefined when an
 * OAuth server has no usable connection (not connected, or the refresh failed: it is `needs_auth`).
 */
export async function usableHeaders(oauth: McpOAuth, tenantId: string, row: McpServerRow, credentials: McpCredentials): Promise<Record<string, string> | undefined> {
  if (row.auth !== "oauth") return credentials.headers;
  if (!credentials.oauth) return undefined;
  const fresh = await oauth.fresh(tenantId, row.id, credentials.oauth);
  if (!fresh) return undefined;
  const scheme = fresh.tokenType.toLowerCase() === "bearer" ? "Bearer" : fresh.tokenType;
  return { authorization: `${scheme} ${fresh.accessToken}` };
}

/** The server as a run (or a tool listing) gets it; `revision` changes with url, transport and every header value. */
export function toRunServer(row: McpServerRow, headers: Record<string, string>, tools: ToolGrant[]): RunMcpServer {
  const revision = createHash("sha256")
    .update(JSON.stringify([row.url, row.transport, Object.entries(headers).sort(([a], [b]) => a.localeCompare(b))]))
    .digest("hex")
    .slice(0, 32);
  return { serverId: row.id, namespace: row.namespace, transport: row.transport, url: row.url, headers, revision, tools };
}
