import {
  AppError,
  ComposioAuthConfig,
  ComposioAuthConfigCreated,
  ComposioConnectedAccount,
  ComposioErrorBody,
  ComposioLinkCreated,
  ComposioTool,
  ComposioToolkit,
  composioPage,
  type ComposioCreateAuthConfigBody,
  type ComposioLinkBody,
} from "@workforce/protocol";
import { z } from "zod";

/*
 * The platform's client of Composio's REST API v3 (what managing connections needs). Every request
 * shape below is Composio's OpenAPI document (ComposioHQ/composio docs/public/openapi.json, the
 * source of https://docs.composio.dev/reference/api-reference), cross-checked with what the
 * official TypeScript SDK sends (ts/packages/core/src/models/{Toolkits,AuthConfigs,ConnectedAccounts}.ts).
 * The API key goes only into the `x-api-key` header: never into a message, a log line or an answer.
 */

export interface ComposioClientOptions {
  apiKey: string;
  baseUrl: string;
  fetch?: typeof fetch;
  /** Per request; default 15 s. */
  timeoutMs?: number;
}

export interface ComposioClient {
  listToolkits(search?: string): Promise<ComposioToolkit[]>;
  listTools(toolkit: string, limit: number): Promise<ComposioTool[]>;
  /** Composio's own auth config of the toolkit (Composio-managed OAuth app), created the first time. */
  managedAuthConfig(toolkit: string): Promise<string>;
  /** Starts Composio's hosted auth flow (Connect Link) for `userId`; the browser comes back to `callbackUrl`. */
  createLink(authConfigId: string, userId: string, callbackUrl: string): Promise<{ redirectUrl: string; connectedAccountId: string }>;
  getAccount(connectedAccountId: string): Promise<ComposioConnectedAccount | undefined>;
  listAccounts(userId: string): Promise<ComposioConnectedAccount[]>;
  /** Deletes the account at Composio (revoking its tokens there); false when it was already gone. */
  deleteAccount(connectedAccountId: string): Promise<boolean>;
}

const Toolkits = composioPage(ComposioToolkit);
const Tools = composioPage(ComposioTool);
const AuthConfigs = composioPage(ComposioAuthConfig);
const Accounts = composioPage(ComposioConnectedAccount);
const Deleted = z.object({ success: z.boolean() });

export function createComposioClient(options: ComposioClientOptions): ComposioClient {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const base = options.baseUrl.replace(/\/+$/, "");

  /** One call; undefined for a 404 when `missingOk`. Composio's own error message is passed on (it never holds our key). */
  async function call<Schema extends z.ZodType>(
    method: string,
    path: string,
    schema: Schema,
    request: { query?: Record<string, string | undefined>; body?: unknown; missingOk?: boolean } = {},
  ): Promise<z.infer<Schema> | undefined> {
    const url = new URL(`${base}${path}`);
    for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(name, value);
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers: { "x-api-key": options.apiKey, accept: "application/json", ...(request.body === undefined ? {} : { "content-type": "application/json" }) },
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const reason = error instanceof Error && error.name === "TimeoutError" ? `did not answer within ${timeoutMs} ms` : "could not be reached";
      throw new AppError("composio_unavailable", `Composio ${reason} (${method} ${path})`, { cause: error });
    }
    const text = await response.text();
    if (response.status === 404 && request.missingOk) return undefined;
    if (!response.ok) {
      const detail = ComposioErrorBody.safeParse(safeJson(text)).data?.error.message ?? `HTTP ${response.status}`;
      if (response.status === 401 || response.status === 403) {
        throw new AppError("composio_auth_failed", `Composio refused the installation's COMPOSIO_API_KEY (${response.status}); the operator must check it`);
      }
      if (response.status >= 500) throw new AppError("composio_unavailable", `Composio failed (${response.status}): ${detail.slice(0, 300)}`);
      throw new AppError("composio_unavailable", `Composio refused ${method} ${path} (${response.status}): ${detail.slice(0, 300)}`);
    }
    const parsed = schema.safeParse(safeJson(text));
    if (!parsed.success) throw new AppError("composio_unavailable", `Composio answered ${method} ${path} with an unexpected body`);
    return parsed.data;
  }
  const must = <T>(value: T | undefined): T => {
    if (value === undefined) throw new AppError("composio_unavailable", "Composio answered 404");
    return value;
  };

  return {
    // GET /api/v3/toolkits — "List available toolkits" (query: search, limit, managed_by).
    async listToolkits(search) {
      const page = must(await call("GET", "/api/v3/toolkits", Toolkits, { query: { search, limit: "200", sort_by: "usage" } }));
      return page.items;
    },
    // GET /api/v3/tools?toolkit_slug= — "List available tools"; toolkit_versions=latest as the SDK's default.
    async listTools(toolkit, limit) {
      const page = must(await call("GET", "/api/v3/tools", Tools, { query: { toolkit_slug: toolkit, limit: String(limit), toolkit_versions: "latest" } }));
      return page.items;
    },
    // GET /api/v3/auth_configs?toolkit_slug=&is_composio_managed=true, else POST /api/v3/auth_configs
    // with { toolkit: { slug }, auth_config: { type: "use_composio_managed_auth" } }: what the SDK's
    // `toolkits.authorize` does (models/Toolkits.ts).
    async managedAuthConfig(toolkit) {
      const existing = must(await call("GET", "/api/v3/auth_configs", AuthConfigs, { query: { toolkit_slug: toolkit, is_composio_managed: "true" } }));
      const found = existing.items.find((config) => config.toolkit.slug === toolkit && config.status === "ENABLED");
      if (found) return found.id;
      const body: z.input<typeof ComposioCreateAuthConfigBody> = { toolkit: { slug: toolkit }, auth_config: { type: "use_composio_managed_auth", name: `Workforce ${toolkit}` } };
      try {
        return must(await call("POST", "/api/v3/auth_configs", ComposioAuthConfigCreated, { body })).auth_config.id;
      } catch (error) {
        if (error instanceof AppError && error.code === "composio_unavailable" && / \(4\d\d\)/.test(error.message)) {
          throw new AppError("composio_unknown_toolkit", `Composio offers no managed sign-in for "${toolkit}"`);
        }
        throw error;
      }
    },
    // POST /api/v3/connected_accounts/link — "Create a new auth link session" (the SDK's
    // connectedAccounts.link; docs.composio.dev/docs/authenticating-tools, "Hosted Authentication").
    async createLink(authConfigId, userId, callbackUrl) {
      const body: z.input<typeof ComposioLinkBody> = { auth_config_id: authConfigId, user_id: userId, callback_url: callbackUrl };
      const created = must(await call("POST", "/api/v3/connected_accounts/link", ComposioLinkCreated, { body }));
      return { redirectUrl: created.redirect_url, connectedAccountId: created.connected_account_id };
    },
    // GET /api/v3/connected_accounts/{nanoid} — "Get connected account details by ID".
    async getAccount(connectedAccountId) {
      return call("GET", `/api/v3/connected_accounts/${encodeURIComponent(connectedAccountId)}`, ComposioConnectedAccount, { missingOk: true });
    },
    // GET /api/v3/connected_accounts?user_ids= — "List connected accounts with optional filters" (arrays comma-separated).
    async listAccounts(userId) {
      return must(await call("GET", "/api/v3/connected_accounts", Accounts, { query: { user_ids: userId, limit: "200" } })).items;
    },
    // DELETE /api/v3/connected_accounts/{nanoid} — "Delete a connected account".
    async deleteAccount(connectedAccountId) {
      return (await call("DELETE", `/api/v3/connected_accounts/${encodeURIComponent(connectedAccountId)}`, Deleted, { missingOk: true })) !== undefined;
    },
  };
}


function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
