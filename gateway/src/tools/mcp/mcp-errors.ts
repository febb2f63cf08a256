import { UnauthorizedError } from "@modelcontextprotocol/sdk/client/auth.js";
import { SseError } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { AppError } from "@workforce/protocol";

/** What the gateway knows of the server it failed to talk to, for the messages. */
export interface McpErrorContext {
  /** The server's namespace, as the admin named it. */
  namespace: string;
  /** What was being done: "connect", "list tools" or "call <tool>". */
  action: string;
  /** The resource-metadata URL of the server's last 401 (RFC 9728), if it sent one. */
  resourceMetadataUrl?: string | undefined;
  /** Values never to show (the server's headers): replaced wherever the server's text is quoted. */
  secrets: readonly string[];
  /** The server sent more than this many bytes in answer to a request (the session was closed for it). */
  tooLargeAfterBytes?: number | undefined;
  /** The SSRF guard refused a connection of this session (its code wins over how the SDK reported the failure). */
  refused?: AppError | undefined;
}

/** An mcp_auth_required error carrying where the platform may start OAuth. */
export class McpAuthRequiredError extends AppError {
  constructor(
    message: string,
    readonly resourceMetadataUrl: string | undefined,
  ) {
    super("mcp_auth_required", message);
  }
}

const MAX_QUOTED_CHARS = 300;

/**
 * Maps what the MCP SDK throws (HTTP statuses, JSON-RPC errors, timeouts, network failures) to
 * one AppError with a stable code and a message that names the server, never its headers. An
 * AppError (the SSRF guard's refusal) passes unchanged.
 */
export function mcpError(caught: unknown, context: McpErrorContext): AppError {
  if (caught instanceof AppError) return caught;
  if (context.refused) return context.refused;
  const guard = guardError(caught);
  if (guard) return guard;
  const error = redactedCause(caught, context.secrets);
  const server = `MCP server "${context.namespace}"`;
  if (context.tooLargeAfterBytes !== undefined) {
    return new AppError("mcp_result_too_large", `${server} sent more than ${context.tooLargeAfterBytes} bytes in answer to ${context.action}; the gateway stopped reading and closed the session`, { cause: error });
  }
  const status = caught instanceof StreamableHTTPError || caught instanceof SseError ? caught.code : undefined;
  if (caught instanceof UnauthorizedError || status === 401) {
    return new McpAuthRequiredError(
      `${server} refused the credentials (HTTP 401) to ${context.action}: it needs to be authorised again by an admin`,
      context.resourceMetadataUrl,
    );
  }
  if (caught instanceof McpError) {
    const code: number = caught.code;
    if (code === (ErrorCode.RequestTimeout as number)) return new AppError("mcp_tool_timeout", `${server} did not answer in time to ${context.action}`, { cause: error });
    if (code === (ErrorCode.ConnectionClosed as number)) return new AppError("mcp_unavailable", `${server} closed the connection while trying to ${context.action}`, { cause: error });
    const quoted = quote(caught.message.replace(/^MCP error -?\d+: /, ""), context.secrets);
    if (context.action.startsWith("call ")) return new AppError("mcp_tool_error", `${server} refused to ${context.action}: ${quoted}`, { cause: error });
    return new AppError("mcp_protocol_error", `${server} answered an error to ${context.action}: ${quoted}`, { cause: error });
  }
  if (status === 404) return new AppError("mcp_unavailable", `${server} no longer knows this session (HTTP 404); the next run connects again`, { cause: error });
  if (status !== undefined && status > 0) return new AppError("mcp_unavailable", `${server} answered HTTP ${status} to ${context.action}`, { cause: error });
  if (status === -1 || isProtocolShape(caught)) return new AppError("mcp_protocol_error", `${server} did not answer as an MCP server to ${context.action}`, { cause: error });
  return new AppError("mcp_unavailable", `${server} could not be reached to ${context.action}`, { cause: error });
}

/** The SSRF guard's refusal may arrive wrapped (fetch failed → cause); it keeps its own code. */
function guardError(error: unknown): AppError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if (current instanceof AppError) return current;
    current = current.cause;
  }
  return undefined;
}

function isProtocolShape(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === "ZodError" || error instanceof SyntaxError || /protocol version|invalid initialize result/i.test(error.message);
}

/** The server's own words, shortened and with every secret value removed. */
export function quote(text: string, secrets: readonly string[]): string {
  return redact(text, secrets).slice(0, MAX_QUOTED_CHARS);
}

export function redact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) {
    if (secret.length >= 4) result = result.split(secret).join("[redacted]");
  }
  return result;
}

/**
 * What the log may say about the SDK's error (run-tool logs an AppError's cause): its message with
 * the header values removed, since the SDK quotes the server's answer, which may echo them.
 */
function redactedCause(error: unknown, secrets: readonly string[]): Error {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new Error(redact(message, secrets).slice(0, 1_000));
}

/** The header values of a server, and the credential part of `Scheme credential` values: what must never be shown. */
export function secretValues(headers: Readonly<Record<string, string>>): string[] {
  const values = new Set<string>();
  for (const value of Object.values(headers)) {
    values.add(value);
    const credential = value.split(" ").slice(1).join(" ");
    if (credential.length >= 8) values.add(credential);
  }
  return [...values].sort((a, b) => b.length - a.length);
}
