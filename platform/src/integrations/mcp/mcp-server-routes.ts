import { randomUUID } from "node:crypto";
import { AppError, McpServerInput, McpServerUpdate, type McpCachedTool } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { operationRoutes } from "../../auth/operation-route";
import { audit } from "../../db/audit";
import type { Database } from "../../db/schema";
import { withTenant, type TenantTransaction } from "../../db/scopes";
import type { TenantSecrets } from "../../secrets/tenant-secrets";
import { readJson } from "../../validation";
import { readCredentials, toRunServer, usableHeaders } from "./mcp-connection";
import type { McpOAuth } from "./mcp-oauth";
import type { McpToolLister, UrlGuard } from "./mcp-ports";
import { hintOf, requireSecrets, secretNames } from "./mcp-secrets";
import { errorLine, findServer, toView, type McpServerRow } from "./mcp-server-store";

export interface McpServerRouteDeps {
  db: Database;
  secrets: TenantSecrets | undefined;
  now: () => Date;
  tools: McpToolLister;
  guard: UrlGuard;
  oauth: McpOAuth;
}

/** At most this many tools of a server are cached (and offered); a run takes at most 500 per server. */
const MAX_CACHED_TOOLS = 500;

const isUniqueViolation = (error: unknown) => typeof error === "object" && error !== null && (error as { code?: unknown }).code === "23505";
const namespaceTaken = (namespace: string) => new AppError("mcp_namespace_taken", `Another MCP server of this organisation already uses the namespace "${namespace}"`);

/** MCP servers of the organisation: members read them, owners and admins manage them. */
export function mcpServerRoutes(deps: McpServerRouteDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  async function viewOf(trx: TenantTransaction, tenantId: string, row: McpServerRow) {
    const connected = row.auth === "oauth" && deps.secrets ? (await deps.secrets.reveal(trx, tenantId, secretNames.oauth(row.id))) !== undefined : false;
    return toView(row, connected);
  }

  async function storeHeaders(trx: TenantTransaction, tenantId: string, serverId: string, headers: Record<string, string>, userId: string | null) {
    await requireSecrets(deps.secrets).put(trx, tenantId, { name: secretNames.headers(serverId), kind: "mcp-headers", value: JSON.stringify(headers), userId });
    return JSON.stringify(Object.entries(headers).map(([name, value]) => ({ name, hint: hintOf(value) })));
  }

  route("mcp.list", async (c, { tenantId }) => {
    const servers = await withTenant(deps.db, tenantId, async (trx) => {
      const rows = await trx.selectFrom("mcp_servers").selectAll().where("tenant_id", "=", tenantId).orderBy("name").orderBy("created_at").execute();
      return Promise.all(rows.map((row) => viewOf(trx, tenantId, row)));
    });
    return c.json({ servers });
  });

  route("mcp.get", async (c, { tenantId }) => {
    const server = await withTenant(deps.db, tenantId, async (trx) => viewOf(trx, tenantId, await findServer(trx, tenantId, c.req.param("id"))));
    return c.json({ server });
  });

  route("mcp.create", async (c, { tenantId, actor }) => {
    const input = await readJson(c, McpServerInput);
    await deps.guard.assertPublicUrl(input.url);
    if (input.auth !== "none") requireSecrets(deps.secrets);
    const id = randomUUID();
    try {
      const server = await withTenant(deps.db, tenantId, async (trx) => {
        const taken = await trx.selectFrom("mcp_servers").select("id").where("tenant_id", "=", tenantId).where("namespace", "=", input.namespace).executeTakeFirst();
        if (taken) throw namespaceTaken(input.namespace);
        await trx
          .insertInto("mcp_servers")
          .values({ id, tenant_id: tenantId, name: input.name, namespace: input.namespace, url: input.url, transport: input.transport, auth: input.auth, created_at: deps.now(), created_by: actor.userId, updated_at: deps.now(), updated_by: actor.userId })
          .execute();
        if (input.auth === "headers" && input.headers) {
          const hints = await storeHeaders(trx, tenantId, id, input.headers, actor.userId);
          await trx.updateTable("mcp_servers").set({ header_hints: hints }).where("id", "=", id).execute();
        }
        await audit(trx, { tenantId, actor, action: "mcp_server.create", target: id, details: { name: input.name, namespace: input.namespace, url: input.url, auth: input.auth, headers: Object.keys(input.headers ?? {}) } });
        return viewOf(trx, tenantId, await findServer(trx, tenantId, id));
      });
      return c.json({ server }, 201);
    } catch (error) {
      throw isUniqueViolation(error) ? namespaceTaken(input.namespace) : error;
    }
  });

  route("mcp.update", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    const update = await readJson(c, McpServerUpdate);
    if (update.url !== undefined) await deps.guard.assertPublicUrl(update.url);
    const server = await withTenant(deps.db, tenantId, async (trx) => {
      const row = await findServer(trx, tenantId, id, { lock: true });
      const auth = update.auth ?? row.auth;
      if (update.headers !== undefined && auth !== "headers") throw new AppError("validation_failed", 'headers: are only sent with auth "headers"');
      if (auth === "headers" && row.auth !== "headers" && update.headers === undefined) throw new AppError("validation_failed", 'headers: name at least one header for auth "headers"');
      const secrets = auth === "none" && row.auth === "none" ? deps.secrets : requireSecrets(deps.secrets);
      const changes: Partial<{ name: string; url: string; transport: McpServerRow["transport"]; auth: McpServerRow["auth"]; header_hints: string }> = {};
      if (update.name !== undefined) changes.name = update.name;
      if (update.url !== undefined) changes.url = update.url;
      if (update.transport !== undefined) changes.transport = update.transport;
      if (update.auth !== undefined) changes.auth = update.auth;
      if (update.headers !== undefined) changes.header_hints = await storeHeaders(trx, tenantId, id, update.headers, actor.userId);
      if (auth !== "headers" && row.auth === "headers" && secrets) {
        await secrets.remove(trx, tenantId, secretNames.headers(id));
        changes.header_hints = "[]";
      }
      // A token is bound to the server's URL (its `resource`): a new URL or auth kind needs a new connection.
      if (row.auth === "oauth" && secrets && (auth !== "oauth" || (update.url !== undefined && update.url !== row.url))) await secrets.remove(trx, tenantId, secretNames.oauth(id));
      const connectionChanged = ["url", "transport", "auth", "header_hints"].some((field) => field in changes);
      await trx
        .updateTable("mcp_servers")
        .set({ ...changes, ...(connectionChanged ? { status: "unchecked", last_error: null } : {}), updated_at: deps.now(), updated_by: actor.userId })
        .where("id", "=", id)
        .execute();
      await audit(trx, { tenantId, actor, action: "mcp_server.update", target: id, details: { fields: Object.keys(update) } });
      return viewOf(trx, tenantId, await findServer(trx, tenantId, id));
    });
    return c.json({ server });
  });

  route("mcp.delete", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    await withTenant(deps.db, tenantId, async (trx) => {
      const row = await findServer(trx, tenantId, id);
      // Its grants and pending authorisations go with it (foreign keys); its secrets here.
      await trx.deleteFrom("mcp_servers").where("id", "=", id).execute();
      if (deps.secrets) await deps.secrets.removePrefix(trx, tenantId, secretNames.prefix(id));
      await audit(trx, { tenantId, actor, action: "mcp_server.delete", target: id, details: { name: row.name, namespace: row.namespace } });
    });
    return c.body(null, 204);
  });

  route("mcp.refresh", async (c, { tenantId }) => {
    const id = c.req.param("id");
    const { row, credentials } = await withTenant(deps.db, tenantId, async (trx) => {
      const server = await findServer(trx, tenantId, id);
      return { row: server, credentials: await readCredentials(deps.secrets, trx, tenantId, server) };
    });
    const headers = await usableHeaders(deps.oauth, tenantId, row, credentials);
    let outcome: { status: McpServerRow["status"]; lastError: string | null; tools?: McpCachedTool[] };
    if (headers === undefined) {
      outcome = { status: "needs_auth", lastError: credentials.oauth ? null : "Not connected: connect the server with OAuth first" };
    } else {
      const listing = await deps.tools.listTools(tenantId, toRunServer(row, headers, []));
      outcome = listing.ok
        ? { status: "ok", lastError: listing.note ? errorLine(listing.note) : null, tools: listing.tools.slice(0, MAX_CACHED_TOOLS) }
        : { status: listing.needsAuth ? "needs_auth" : "error", lastError: errorLine(listing.message) };
    }
    const server = await withTenant(deps.db, tenantId, async (trx) => {
      const current = await findServer(trx, tenantId, id, { lock: true });
      // A refresh of the OAuth connection may already have marked it; keep that reason.
      const lastError = outcome.lastError ?? (current.status === "needs_auth" && outcome.status === "needs_auth" ? current.last_error : null);
      await trx
        .updateTable("mcp_servers")
        .set({ status: outcome.status, last_error: lastError, ...(outcome.tools ? { tools: JSON.stringify(outcome.tools), tools_refreshed_at: deps.now() } : {}) })
        .where("id", "=", id)
        .execute();
      return viewOf(trx, tenantId, await findServer(trx, tenantId, id));
    });
    return c.json({ server });
  });

  route("mcp.oauth-start", async (c, { tenantId, user }) => {
    const authorizationUrl = await deps.oauth.start(tenantId, user.id, c.req.param("id"));
    return c.json({ authorizationUrl });
  });

  return app;
}
