import { createHash, randomBytes } from "node:crypto";
import {
  AgentComposioTools,
  AppError,
  ComposioConnectInput,
  ComposioToolkitSlug,
  Slug,
  UUID_PATTERN,
  type ComposioConnectionStatus,
  type ComposioTool,
  type ComposioToolkit,
  type RunComposioTool,
} from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { operationRoutes } from "../../auth/operation-route";
import { audit } from "../../db/audit";
import type { Database } from "../../db/schema";
import { withTenant } from "../../db/scopes";
import { TtlCache } from "../../ttl-cache";
import { readJson } from "../../validation";
import type { RunIntegrationPart } from "../run-integrations";
import { createComposioClient, type ComposioClient } from "./composio-client";
import * as store from "./composio-store";

/** The operator's Composio settings: COMPOSIO_API_KEY and COMPOSIO_BASE_URL. */
export interface ComposioOptions {
  apiKey: string;
  baseUrl: string;
}

export interface ComposioDeps {
  db: Database;
  now: () => Date;
  logError: (message: string, error: unknown) => void;
  /** PUBLIC_URL: where Composio's hosted sign-in sends the browser back to. */
  publicUrl: string;
  /** Undefined without COMPOSIO_API_KEY: the feature is hidden. */
  options: ComposioOptions | undefined;
  /** Tests may point Composio's calls elsewhere; default the global fetch. */
  fetch?: typeof fetch;
}

/** How long the hosted sign-in may take before its callback is refused. */
const STATE_LIFETIME_MS = 30 * 60_000;
const CATALOGUE_TTL_MS = 10 * 60_000;
/** A toolkit granted whole is offered with at most this many of its tools (Composio's order). */
export const TOOLS_PER_WHOLE_TOOLKIT = 100;

const STATUS_OF: Record<string, ComposioConnectionStatus> = { INITIALIZING: "pending", INITIATED: "pending", ACTIVE: "active", FAILED: "failed", EXPIRED: "expired", INACTIVE: "inactive" };

const hashState = (secret: string) => createHash("sha256").update(secret).digest("hex");

function toolkitView(toolkit: ComposioToolkit) {
  return { slug: toolkit.slug, name: toolkit.name, description: toolkit.meta.description ?? "", logo: toolkit.meta.logo ?? null, toolsCount: toolkit.meta.tools_count ?? null };
}

/**
 * Composio (issue 14): the organisation connects apps through Composio's hosted sign-in (the
 * connected account belongs to Composio's user named by our tenant id), chooses per agent which
 * toolkits (or tools) it may use, and each run gets those tools with the organisation's own
 * connected account. Without COMPOSIO_API_KEY every route but the overview answers
 * `composio_not_configured` and runs get no Composio tools.
 */
export function createComposioIntegration(deps: ComposioDeps): { routes: Hono<AppEnv>; pages: Hono; part: RunIntegrationPart; eraseTenant(tenantId: string): Promise<void> } {
  const { db, now } = deps;
  const client: ComposioClient | undefined = deps.options && createComposioClient({ ...deps.options, ...(deps.fetch ? { fetch: deps.fetch } : {}) });
  const toolkitCache = new TtlCache<string, ComposioToolkit[]>(64);
  const toolCache = new TtlCache<string, ComposioTool[]>(256);

  const configured = (): ComposioClient => {
    if (!client) throw new AppError("composio_not_configured", "This installation does not offer Composio apps (the operator has not set COMPOSIO_API_KEY)");
    return client;
  };
  async function toolkits(composio: ComposioClient, search: string | undefined): Promise<ComposioToolkit[]> {
    const key = search ?? "";
    const cached = toolkitCache.get(key, Date.now());
    if (cached) return cached;
    const list = await composio.listToolkits(search);
    toolkitCache.set(key, list, Date.now() + CATALOGUE_TTL_MS);
    return list;
  }
  async function toolsOf(composio: ComposioClient, toolkit: string): Promise<ComposioTool[]> {
    const cached = toolCache.get(toolkit, Date.now());
    if (cached) return cached;
    const list = (await composio.listTools(toolkit, TOOLS_PER_WHOLE_TOOLKIT)).filter((tool) => tool.toolkit.slug === toolkit);
    toolCache.set(toolkit, list, Date.now() + CATALOGUE_TTL_MS);
    return list;
  }
  const agentSlug = (value: string) => {
    if (!Slug.safeParse(value).success) throw new AppError("agent_not_found", `No agent named "${value.slice(0, 80)}"`);
    return value;
  };

  /** Brings the organisation's connection statuses up to date with Composio (best effort: stored ones otherwise). */
  async function refreshStatuses(composio: ComposioClient, tenantId: string): Promise<void> {
    let accounts;
    try {
      accounts = await composio.listAccounts(tenantId);
    } catch (error) {
      deps.logError(`composio: could not refresh the connections of ${tenantId}`, error);
      return;
    }
    const byId = new Map(accounts.map((account) => [account.id, account]));
    await withTenant(db, tenantId, async (trx) => {
      for (const row of await store.listConnections(trx)) {
        const account = byId.get(row.connected_account_id);
        // Gone at Composio (deleted there): no longer usable.
        const status = account ? (account.is_disabled ? "inactive" : (STATUS_OF[account.status] ?? "failed")) : "inactive";
        if (account || row.status === "active") await store.setStatus(trx, row.id, status, now());
      }
    });
  }

  const routes = new Hono<AppEnv>();
  const route = operationRoutes(routes);

  route("composio.overview", async (c, { tenantId }) => {
    if (!client) return c.json({ configured: false });
    await refreshStatuses(client, tenantId);
    const rows = await withTenant(db, tenantId, (trx) => store.listConnections(trx));
    return c.json({ configured: true, connections: rows.map(store.connectionView) });
  });

  route("composio.toolkits", async (c) => {
    const composio = configured();
    // Composio searches from 3 characters on; shorter is the whole catalogue.
    const typed = c.req.query("search")?.trim().slice(0, 100) ?? "";
    const search = typed.length >= 3 ? typed : undefined;
    return c.json({ toolkits: (await toolkits(composio, search)).map(toolkitView) });
  });

  route("composio.toolkit-tools", async (c) => {
    const composio = configured();
    const toolkit = ComposioToolkitSlug.safeParse(c.req.param("toolkit"));
    if (!toolkit.success) throw new AppError("composio_unknown_toolkit", "No such Composio toolkit");
    const tools = await toolsOf(composio, toolkit.data);
    return c.json({ tools: tools.map((tool) => ({ slug: tool.slug, name: tool.name, description: tool.description })) });
  });

  route("composio.connect", async (c, { tenantId, actor, user }) => {
    const composio = configured();
    const input = await readJson(c, ComposioConnectInput);
    const existing = await withTenant(db, tenantId, (trx) => store.connectionByToolkit(trx, input.toolkit));
    if (existing?.status === "active") throw new AppError("conflict", `${input.toolkit} is already connected; disconnect it first to connect another account`);
    const authConfigId = await composio.managedAuthConfig(input.toolkit);
    const secret = randomBytes(32).toString("base64url");
    const callbackUrl = new URL("/oauth/composio/callback", deps.publicUrl);
    callbackUrl.searchParams.set("state", `${tenantId}.${secret}`);
    const link = await composio.createLink(authConfigId, tenantId, callbackUrl.toString());
    const row = await withTenant(db, tenantId, async (trx) => {
      const saved = await store.savePendingConnection(trx, {
        tenantId,
        toolkit: input.toolkit,
        connectedAccountId: link.connectedAccountId,
        stateHash: hashState(secret),
        stateExpiresAt: new Date(now().getTime() + STATE_LIFETIME_MS),
        userId: user.id,
        now: now(),
      });
      await audit(trx, { tenantId, actor, action: "composio.connect", target: saved.id, details: { toolkit: input.toolkit } });
      return saved;
    });
    // The account a replaced, never completed connection left at Composio.
    if (existing) await composio.deleteAccount(existing.connected_account_id).catch((error: unknown) => deps.logError("composio: could not delete an abandoned connected account", error));
    return c.json({ connection: store.connectionView(row), redirectUrl: link.redirectUrl }, 201);
  });

  route("composio.disconnect", async (c, { tenantId, actor }) => {
    const composio = configured();
    const id = c.req.param("id");
    const row = UUID_PATTERN.test(id) ? await withTenant(db, tenantId, (trx) => store.connectionById(trx, id)) : undefined;
    if (!row) throw new AppError("not_found", "No such Composio connection");
    // At Composio first: a connection we forgot but Composio kept would stay usable with our key.
    await composio.deleteAccount(row.connected_account_id);
    await withTenant(db, tenantId, async (trx) => {
      await store.deleteConnection(trx, row.id);
      await audit(trx, { tenantId, actor, action: "composio.disconnect", target: row.id, details: { toolkit: row.toolkit } });
    });
    return c.body(null, 204);
  });

  route("composio.agent-tools", async (c, { tenantId }) => {
    configured();
    const agent = agentSlug(c.req.param("slug"));
    const toolkits = await withTenant(db, tenantId, async (trx) => {
      if (!(await store.agentExists(trx, agent))) throw new AppError("agent_not_found", `No agent named "${agent}"`);
      return store.agentToolkits(trx, agent);
    });
    return c.json({ toolkits });
  });

  route("composio.update-agent-tools", async (c, { tenantId, actor, user }) => {
    const composio = configured();
    const agent = agentSlug(c.req.param("slug"));
    const input = await readJson(c, AgentComposioTools);
    const seen = new Set<string>();
    for (const choice of input.toolkits) {
      if (seen.has(choice.toolkit)) throw new AppError("validation_failed", `toolkits: ${choice.toolkit} is named twice`);
      seen.add(choice.toolkit);
    }
    await withTenant(db, tenantId, async (trx) => {
      if (!(await store.agentExists(trx, agent))) throw new AppError("agent_not_found", `No agent named "${agent}"`);
    });
    // Named tools must be the toolkit's (a GMAIL tool cannot ride on a github grant).
    for (const choice of input.toolkits) {
      if (choice.tools === null) continue;
      const offered = new Set((await toolsOf(composio, choice.toolkit)).map((tool) => tool.slug));
      const unknown = choice.tools.filter((tool) => !offered.has(tool));
      if (unknown.length > 0) throw new AppError("composio_unknown_toolkit", `${choice.toolkit} has no tool ${unknown.slice(0, 5).join(", ")}`);
    }
    await withTenant(db, tenantId, async (trx) => {
      await store.replaceAgentToolkits(trx, { tenantId, agent, toolkits: input.toolkits, userId: user.id, now: now() });
      await audit(trx, { tenantId, actor, action: "composio.agent_tools", target: agent, details: { toolkits: input.toolkits.map((choice) => choice.toolkit) } });
    });
    return c.json({ toolkits: input.toolkits });
  });

  // Outside /api: the browser comes back here from Composio's hosted sign-in, without our token.
  // The single-use state names the organisation and the connection (issued to the member who
  // started it); anything else lands on /integrations with `composio=failed`.
  const pages = new Hono();
  pages.get("/oauth/composio/callback", async (c) => {
    const back = (outcome: string, toolkit?: string) => c.redirect(`/integrations?composio=${outcome}${toolkit ? `&toolkit=${encodeURIComponent(toolkit)}` : ""}`, 302);
    const [tenantId, secret] = (c.req.query("state") ?? "").split(".", 2);
    if (!client || !tenantId || !secret || !UUID_PATTERN.test(tenantId)) return back("failed");
    const taken = await withTenant(db, tenantId, (trx) => store.takeState(trx, hashState(secret), now()));
    if (!taken) return back("failed");
    let status: ComposioConnectionStatus = "failed";
    try {
      const account = await client.getAccount(taken.connected_account_id);
      status = account ? (STATUS_OF[account.status] ?? "failed") : "failed";
    } catch (error) {
      deps.logError("composio: could not read a connection's status after sign-in", error);
      status = "pending";
    }
    await withTenant(db, tenantId, (trx) => store.setStatus(trx, taken.id, status, now()));
    return back(status === "active" ? "connected" : status === "pending" ? "pending" : "failed", taken.toolkit);
  });

  const part: RunIntegrationPart = {
    async read(trx, tenantId, agent) {
      const grants = client && deps.options ? await store.runnableToolkits(trx, agent) : [];
      return async (draft) => {
        if (!client || !deps.options || grants.length === 0) return;
        // The toolkits granted whole are listed at Composio: outside the transaction.
        const tools: RunComposioTool[] = [];
        for (const grant of grants) {
          let slugs = grant.tools;
          if (slugs === null) {
            try {
              slugs = (await toolsOf(client, grant.toolkit)).map((tool) => tool.slug);
            } catch (error) {
              deps.logError(`composio: the tools of ${grant.toolkit} could not be listed; the run goes without them`, error);
              continue;
            }
          }
          for (const slug of slugs) tools.push({ slug, toolkit: grant.toolkit, connectedAccountId: grant.connected_account_id, mode: grant.mode });
        }
        if (tools.length === 0) return;
        draft.composio = { apiKey: deps.options.apiKey, baseUrl: deps.options.baseUrl, userId: tenantId, tools: tools.slice(0, 500) };
      };
    },
  };

  /** Deletes the organisation's connected accounts at Composio (its rows go with the organisation); a failure stops the erasure, to be tried again. */
  async function eraseTenant(tenantId: string): Promise<void> {
    const rows = await withTenant(db, tenantId, (trx) => store.listConnections(trx));
    if (rows.length === 0) return;
    if (!client) {
      deps.logError(`composio: ${rows.length} connected account(s) of ${tenantId} stay at Composio: COMPOSIO_API_KEY is no longer set`, undefined);
      return;
    }
    for (const row of rows) await client.deleteAccount(row.connected_account_id);
  }

  return { routes, pages, part, eraseTenant };
}
