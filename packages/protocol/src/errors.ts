import { z } from "zod";

/**
 * Every error that crosses a process boundary (HTTP, SSE, WebSocket) uses this shape:
 * `{ "error": { "code", "message" } }`. Codes are stable identifiers clients may switch on;
 * messages are for humans and may change.
 */
export const ERROR_CODES = [
  // request shape
  "validation_failed",
  "invalid_json",
  "payload_too_large",
  "not_found",
  "conflict",
  "method_not_allowed",
  // auth
  "unauthorized",
  "invalid_token",
  "token_expired",
  "forbidden",
  "invalid_credentials",
  "email_taken",
  "weak_password",
  "rate_limited",
  "email_not_confirmed",
  "signup_disabled",
  "otp_expired",
  "reauthentication_needed",
  "same_password",
  "session_expired",
  "tenant_suspended",
  // tenancy and paths
  "tenant_required",
  "invalid_tenant_id",
  "invalid_slug",
  "invalid_session_key",
  "invalid_path",
  "path_escape",
  // agents and sessions
  "agent_not_found",
  "agent_exists",
  "agent_identity_missing",
  "session_not_found",
  "run_not_found",
  "run_interrupted",
  "queue_full",
  "run_timeout",
  "too_many_runs",
  "budget_exceeded",
  "tenant_queue_full",
  // tool approvals (issue 15)
  "approval_pending",
  "approval_not_pending",
  "approval_not_found",
  "approval_already_decided",
  // edit and regenerate (decision 041)
  "message_replaced",
  // storage
  "storage_unavailable",
  "storage_read_only",
  "storage_full",
  "tenant_quota_exceeded",
  // backup and restore
  "tenant_exists",
  "backup_invalid",
  // tenant secrets
  "secret_unreadable",
  // providers
  "provider_rate_limited",
  "provider_overloaded",
  "provider_auth_failed",
  "provider_unreachable",
  "provider_error",
  // MCP servers (issue 14)
  "mcp_unavailable",
  "mcp_auth_required",
  "mcp_protocol_error",
  "mcp_tool_error",
  "mcp_tool_timeout",
  "mcp_result_too_large",
  "model_key_required",
  // the agent's model (issue 16)
  "model_unavailable",
  // outgoing connections (packages/net-guard)
  "outbound_blocked",
  // outbound webhooks (issue 15)
  "webhook_not_found",
  "webhook_delivery_not_found",
  "webhook_limit_reached",
  "webhook_url_not_https",
  "webhook_disabled",
  "webhook_delivery_in_progress",
  // MCP servers and tool grants (issue 14)
  "mcp_server_not_found",
  "mcp_namespace_taken",
  "mcp_unknown_tool",
  "mcp_oauth_failed",
  "secrets_unavailable",
  // web tools (gateway/src/tools/web)
  "web_robots_disallowed",
  "web_unsupported_content",
  "web_fetch_failed",
  "web_timeout",
  "web_search_failed",
  // services
  "gateway_unavailable",
  "gateway_error",
  "database_unavailable",
  "data_dir_mismatch",
  "mail_unavailable",
  // Composio (issue 14)
  "composio_not_configured",
  "composio_unavailable",
  "composio_auth_failed",
  "composio_unknown_toolkit",
  "composio_tool_failed",
  "composio_tool_timeout",
  "composio_result_too_large",
  // schedules (issue 15)
  "invalid_schedule",
  "schedule_not_found",
  "schedule_limit_reached",
  // team governance (issue 16)
  "last_owner",
  "invitation_pending",
  "internal_error",
] as const;

export const ErrorCode = z.enum(ERROR_CODES);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const ErrorDetail = z.object({
  code: z.string().min(1),
  message: z.string().min(1),
  retryable: z.boolean().optional(),
});
export type ErrorDetail = z.infer<typeof ErrorDetail>;

export const ApiErrorBody = z.object({ error: ErrorDetail });
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;

/** HTTP status each code is normally answered with. */
export const ERROR_STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  invalid_json: 400,
  payload_too_large: 413,
  not_found: 404,
  conflict: 409,
  method_not_allowed: 405,
  unauthorized: 401,
  invalid_token: 401,
  token_expired: 401,
  forbidden: 403,
  invalid_credentials: 400,
  email_taken: 422,
  weak_password: 422,
  rate_limited: 429,
  email_not_confirmed: 403,
  signup_disabled: 403,
  otp_expired: 403,
  reauthentication_needed: 400,
  same_password: 422,
  session_expired: 401,
  tenant_suspended: 403,
  tenant_required: 400,
  invalid_tenant_id: 400,
  invalid_slug: 400,
  invalid_session_key: 400,
  invalid_path: 400,
  path_escape: 400,
  agent_not_found: 404,
  agent_exists: 409,
  agent_identity_missing: 409,
  session_not_found: 404,
  run_not_found: 404,
  /** The gateway executing the run died (SIGKILL, lost node): its lease expired and the run was marked interrupted. */
  run_interrupted: 503,
  queue_full: 429,
  run_timeout: 504,
  too_many_runs: 429,
  budget_exceeded: 429,
  tenant_queue_full: 429,
  /** The session waits for a member to approve or deny a tool call: a new message must wait for the decision. */
  approval_pending: 409,
  /** The approval was decided already (or is no longer the one the session waits for). */
  approval_not_pending: 409,
  approval_not_found: 404,
  /** The platform's approval was decided by someone else first (or timed out). */
  approval_already_decided: 409,
  /** An edit or regenerate named a message another edit or regenerate already replaced (another tab, a double click). */
  message_replaced: 409,
  storage_unavailable: 503,
  storage_read_only: 503,
  storage_full: 507,
  tenant_quota_exceeded: 507,
  tenant_exists: 409,
  backup_invalid: 400,
  /** A stored secret does not decrypt (the master key is not the one it was encrypted with, or the row was altered). */
  secret_unreadable: 500,
  provider_rate_limited: 429,
  provider_overloaded: 503,
  provider_auth_failed: 502,
  provider_unreachable: 502,
  provider_error: 502,
  /** A tenant's MCP server could not be reached, ended its session, or answered with an HTTP error. */
  mcp_unavailable: 502,
  /** The MCP server answered 401: it needs (re)authorisation (new headers, or OAuth). Not 401: the gateway's own token was fine. */
  mcp_auth_required: 502,
  /** The MCP server answered something that is not MCP (bad JSON-RPC, unsupported protocol version, invalid tool list). */
  mcp_protocol_error: 502,
  /** The MCP tool ran and reported an error (its result had isError). */
  mcp_tool_error: 502,
  /** The MCP tool did not answer within WORKFORCE_MCP_TOOL_TIMEOUT_MS. */
  mcp_tool_timeout: 504,
  /** The MCP server sent more than the gateway reads in answer to one request; the session was closed. */
  mcp_result_too_large: 502,
  /** The agent's provider needs the organisation's own key (the operator turned the platform key fallback off). */
  model_key_required: 409,
  /** The agent names a model this installation cannot serve (not in `GET /api/models`); saving it is refused. */
  model_unavailable: 422,
  /** A URL or connection goes to a private, loopback or otherwise non-public address the operator has not allowed (decision 030). */
  outbound_blocked: 422,
  webhook_not_found: 404,
  webhook_delivery_not_found: 404,
  /** The organisation already has as many webhook endpoints as it may (MAX_WEBHOOK_ENDPOINTS). */
  webhook_limit_reached: 409,
  /** Webhooks go over https; plain http only to a private address the operator allows (development). */
  webhook_url_not_https: 400,
  /** The endpoint is disabled (by a member or automatically): enable it first. */
  webhook_disabled: 409,
  /** An attempt of this delivery is being made right now. */
  webhook_delivery_in_progress: 409,
  mcp_server_not_found: 404,
  mcp_namespace_taken: 409,
  /** A grant names a tool the server does not list (or a web tool that does not exist). */
  mcp_unknown_tool: 400,
  /** The server's authorization server refused or failed the OAuth flow. */
  mcp_oauth_failed: 502,
  /** No master key (WORKFORCE_SECRET_KEY): nothing that needs a stored secret can be set up. */
  secrets_unavailable: 503,
  /** The site's robots.txt does not allow our agent to fetch the page. */
  web_robots_disallowed: 403,
  /** web_fetch reads pages and text, not images, PDFs or archives. */
  web_unsupported_content: 415,
  /** The site could not be reached, or answered with an HTTP error. */
  web_fetch_failed: 502,
  web_timeout: 504,
  /** The operator's search provider failed or refused the query. */
  web_search_failed: 502,
  gateway_unavailable: 503,
  gateway_error: 502,
  database_unavailable: 503,
  data_dir_mismatch: 503,
  mail_unavailable: 503,
  /** COMPOSIO_API_KEY is not set: the installation offers no Composio apps (the feature is hidden, as if absent). */
  composio_not_configured: 404,
  /** Composio could not be reached, timed out, or answered with a server error. */
  composio_unavailable: 502,
  /** Composio refused the operator's COMPOSIO_API_KEY (401/403). */
  composio_auth_failed: 502,
  /** A toolkit (or tool) that Composio does not offer. */
  composio_unknown_toolkit: 400,
  /** Composio ran the tool and reported that it failed (or refused the call). */
  composio_tool_failed: 502,
  /** A Composio tool did not answer in time. */
  composio_tool_timeout: 504,
  /** A Composio tool's result was larger than the gateway accepts. */
  composio_result_too_large: 502,
  /** A schedule that cannot fire: a bad cron expression, an unknown time zone, a time in the past (the message names it). */
  invalid_schedule: 400,
  schedule_not_found: 404,
  /** An agent or organisation has as many schedules as it may (100 per agent, 500 per organisation). */
  schedule_limit_reached: 409,
  last_owner: 409,
  invitation_pending: 409,
  internal_error: 500,
};

/** An error a service raises on purpose; its code and status go to the client unchanged. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { status?: number; retryable?: boolean; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.status = options.status ?? ERROR_STATUS[code];
    this.retryable = options.retryable;
    this.headers = options.headers;
  }

  toBody(): ApiErrorBody {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.retryable === undefined ? {} : { retryable: this.retryable }),
      },
    };
  }
}

export function errorBody(code: ErrorCode, message: string): ApiErrorBody {
  return { error: { code, message } };
}

/** Turns a zod error into one readable sentence that names each bad field. */
export function describeZodError(error: z.ZodError, prefix = ""): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join(".");
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join("; ");
}
