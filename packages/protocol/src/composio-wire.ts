import { z } from "zod";

/*
 * Composio's REST API v3, as far as we use it: the platform (connections, toolkits), the gateway
 * (tool schemas, execution) and the test fake (packages/fake-upstream) share these shapes, so all
 * three read the same fields. Only what we read is declared: zod strips the rest, so nothing
 * Composio returns beyond it (a connected account's `state` holds the app's tokens) is ever kept.
 *
 * Source: Composio's OpenAPI document (ComposioHQ/composio, docs/public/openapi.json; rendered at
 * https://docs.composio.dev/reference/api-reference). Base URL https://backend.composio.dev, the
 * project API key in the `x-api-key` header, array query parameters comma-separated (the
 * Stainless-generated official clients, ComposioHQ/composio-base-py `_client.py`).
 */

/** Where Composio's API lives unless COMPOSIO_BASE_URL says otherwise. */
export const COMPOSIO_DEFAULT_BASE_URL = "https://backend.composio.dev";

/** `{ error: { message, code, status } }`, Composio's error body (every 4xx/5xx response of the document). */
export const ComposioErrorBody = z.object({ error: z.object({ message: z.string(), code: z.number().optional(), status: z.number().optional() }) });

/** One page of a list (`items`, `next_cursor`): every v3 list endpoint. */
export function composioPage<Item extends z.ZodType>(item: Item) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullish() });
}

/** GET /api/v3/auth_configs (items) — "List authentication configurations with optional filters". */
export const ComposioAuthConfig = z.object({
  id: z.string().min(1),
  toolkit: z.object({ slug: z.string() }),
  is_composio_managed: z.boolean().optional(),
  status: z.enum(["ENABLED", "DISABLED"]),
});
export type ComposioAuthConfig = z.infer<typeof ComposioAuthConfig>;

/** POST /api/v3/auth_configs body with `use_composio_managed_auth` — "Create new authentication configuration". */
export const ComposioCreateAuthConfigBody = z.object({
  toolkit: z.object({ slug: z.string().min(1) }),
  auth_config: z.object({ type: z.literal("use_composio_managed_auth"), name: z.string().optional() }),
});
/** Its 201 answer. */
export const ComposioAuthConfigCreated = z.object({ toolkit: z.object({ slug: z.string() }), auth_config: z.object({ id: z.string().min(1) }) });

/** POST /api/v3/connected_accounts/link body — "Create a new auth link session" (Connect Link, Composio's hosted auth page). */
export const ComposioLinkBody = z.object({ auth_config_id: z.string().min(1), user_id: z.string().min(1), callback_url: z.string().url().optional() });
/** Its 201 answer: where to send the browser, and the connected account it will complete. */
export const ComposioLinkCreated = z.object({
  link_token: z.string(),
  redirect_url: z.string().url(),
  expires_at: z.string(),
  connected_account_id: z.string().min(1),
});

export const COMPOSIO_ACCOUNT_STATUSES = ["INITIALIZING", "INITIATED", "ACTIVE", "FAILED", "EXPIRED", "INACTIVE"] as const;
/** GET /api/v3/connected_accounts/{nanoid} and the items of GET /api/v3/connected_accounts. */
export const ComposioConnectedAccount = z.object({
  id: z.string().min(1),
  toolkit: z.object({ slug: z.string() }),
  status: z.enum(COMPOSIO_ACCOUNT_STATUSES),
  is_disabled: z.boolean().optional(),
  status_reason: z.string().nullish(),
});
export type ComposioConnectedAccount = z.infer<typeof ComposioConnectedAccount>;

/** GET /api/v3/toolkits (items) — "List available toolkits". */
export const ComposioToolkit = z.object({
  slug: z.string().min(1),
  name: z.string(),
  no_auth: z.boolean().optional(),
  composio_managed_auth_schemes: z.array(z.string()).optional(),
  meta: z.object({ description: z.string().optional(), logo: z.string().optional(), tools_count: z.number().optional() }),
});
export type ComposioToolkit = z.infer<typeof ComposioToolkit>;

/** GET /api/v3/tools (items) — "List available tools": the schema a model sees, and the version to execute. */
export const ComposioTool = z.object({
  slug: z.string().min(1),
  name: z.string(),
  description: z.string(),
  toolkit: z.object({ slug: z.string() }),
  input_parameters: z.record(z.string(), z.unknown()),
  version: z.string().optional(),
});
export type ComposioTool = z.infer<typeof ComposioTool>;

/** POST /api/v3/tools/execute/{tool_slug} body — "Execute tool". */
export const ComposioExecuteBody = z.object({
  user_id: z.string().min(1),
  connected_account_id: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()),
  version: z.string().optional(),
});
/** Its 200 answer: `successful` false carries the tool's `error`. */
export const ComposioExecuteResult = z.object({ data: z.unknown(), error: z.string().nullish(), successful: z.boolean(), log_id: z.string().optional() });
export type ComposioExecuteResult = z.infer<typeof ComposioExecuteResult>;
