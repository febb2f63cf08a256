import { z } from "zod";
import { McpNamespace, McpTransport, ToolMode } from "./integrations";

/*
 * The platform's /api for MCP servers and per-agent tool grants (issue 14). Header values and
 * OAuth tokens are write-only: answers name the headers and show a hint, never a value.
 */

export const McpAuthKind = z.enum(["none", "headers", "oauth"]);
export type McpAuthKind = z.infer<typeof McpAuthKind>;

/**
 * - `unchecked`: registered, its tools never listed yet.
 * - `ok`: the last refresh listed its tools.
 * - `needs_auth`: it answered 401, or its OAuth connection is missing or could not be refreshed.
 * - `error`: the last refresh failed otherwise (see `lastError`).
 */
export const McpServerStatus = z.enum(["unchecked", "ok", "needs_auth", "error"]);
export type McpServerStatus = z.infer<typeof McpServerStatus>;

/** A header name as HTTP allows (RFC 9110 token); the ones the transport sets itself are refused. */
const RESERVED_HEADERS = new Set(["host", "content-length", "content-type", "accept", "connection", "transfer-encoding", "mcp-session-id", "mcp-protocol-version"]);
export const McpHeaderName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$/, "must be an HTTP header name")
  .refine((name) => !RESERVED_HEADERS.has(name.toLowerCase()), "is set by the MCP transport itself");
/** A header value: one line, no control characters. */
export const McpHeaderValue = z
  .string()
  .min(1, "must not be empty")
  .max(8000)
  .refine((value) => ![...value].some((character) => {
    const code = character.charCodeAt(0);
    return (code < 0x20 && code !== 0x09) || code === 0x7f;
  }), "must be one line without control characters");
export const McpHeaders = z.record(McpHeaderName, McpHeaderValue).refine((headers) => Object.keys(headers).length <= 20, "at most 20 headers");

const McpUrl = z
  .string()
  .trim()
  .max(2000)
  .url("must be an http(s) URL")
  .refine((value) => /^https?:\/\//i.test(value), "must be an http(s) URL")
  // The URL is shown to members and written to the audit log; credentials belong in the write-only headers.
  .refine((value) => !URL.canParse(value) || (new URL(value).username === "" && new URL(value).password === ""), "must not carry a user name or password: put credentials in the headers, which are stored encrypted and never shown");
const ServerName = z.string().trim().min(1, "is required").max(100);

export const McpServerInput = z
  .object({
    name: ServerName,
    namespace: McpNamespace,
    url: McpUrl,
    transport: McpTransport.default("streamable-http"),
    auth: McpAuthKind.default("none"),
    /** With `auth: "headers"`: sent with every request to the server. Write-only. */
    headers: McpHeaders.optional(),
  })
  .refine((input) => input.auth === "headers" || input.headers === undefined, { message: "are only sent with auth \"headers\"", path: ["headers"] })
  .refine((input) => input.auth !== "headers" || Object.keys(input.headers ?? {}).length > 0, { message: "name at least one header for auth \"headers\"", path: ["headers"] });
export type McpServerInput = z.infer<typeof McpServerInput>;

/** A change; `headers` replaces every header (omit it to keep them). Changing `auth` away from oauth forgets the tokens. */
export const McpServerUpdate = z
  .object({
    name: ServerName.optional(),
    url: McpUrl.optional(),
    transport: McpTransport.optional(),
    auth: McpAuthKind.optional(),
    headers: McpHeaders.optional(),
  })
  .refine((update) => Object.keys(update).length > 0, "change at least one field");
export type McpServerUpdate = z.infer<typeof McpServerUpdate>;

/** A tool a server offers, as its last `tools/list` gave it. */
export const McpCachedTool = z.object({
  name: z.string().min(1).max(200),
  title: z.string().max(200).optional(),
  description: z.string().max(4000).optional(),
});
export type McpCachedTool = z.infer<typeof McpCachedTool>;

export const McpServerView = z.object({
  id: z.string(),
  name: z.string(),
  namespace: McpNamespace,
  url: z.string(),
  transport: McpTransport,
  auth: McpAuthKind,
  /** The headers' names with a hint of their values ("…abcd"); never the values. */
  headers: z.array(z.object({ name: z.string(), hint: z.string() })),
  /** Whether an OAuth connection (tokens) is stored; null unless `auth` is oauth. */
  oauth: z.object({ connected: z.boolean() }).nullable(),
  status: McpServerStatus,
  lastError: z.string().nullable(),
  tools: z.array(McpCachedTool),
  toolsRefreshedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type McpServerView = z.infer<typeof McpServerView>;

export const McpServerList = z.object({ servers: z.array(McpServerView) });
export const McpServerEnvelope = z.object({ server: McpServerView });
/** Where the browser goes to authorise us at the server's authorization server. */
export const McpOAuthStart = z.object({ authorizationUrl: z.string().url() });

/** The tools the platform offers an agent besides MCP's: the web tools (issue 14's web part). */
export const WebToolName = z.enum(["web_fetch", "web_search"]);
export type WebToolName = z.infer<typeof WebToolName>;

/** One grant as `PUT /api/agents/{slug}/tools` takes it. */
export const AgentToolGrantInput = z.discriminatedUnion("source", [
  z.object({ source: z.literal("web"), tool: WebToolName, mode: ToolMode }),
  z.object({ source: z.literal("mcp"), serverId: z.string().uuid("must be an MCP server's id"), tool: z.string().min(1).max(200), mode: ToolMode }),
]);
export type AgentToolGrantInput = z.infer<typeof AgentToolGrantInput>;

/** Replaces every web and MCP grant of the agent: a tool not listed is no longer granted. */
export const AgentToolsUpdate = z.object({ grants: z.array(AgentToolGrantInput).max(1000) });
export type AgentToolsUpdate = z.infer<typeof AgentToolsUpdate>;

/** A tool the agent could be given, with its grant (null: not granted). */
export const AgentToolOption = z.object({
  name: z.string(),
  description: z.string().optional(),
  mode: ToolMode.nullable(),
});
export type AgentToolOption = z.infer<typeof AgentToolOption>;

export const AgentToolsView = z.object({
  agent: z.string(),
  web: z.array(AgentToolOption.extend({ name: WebToolName, available: z.boolean() })),
  mcp: z.array(
    z.object({
      serverId: z.string(),
      name: z.string(),
      namespace: McpNamespace,
      status: McpServerStatus,
      /** The server's cached tools, and granted tools it no longer lists (kept until changed). */
      tools: z.array(AgentToolOption.extend({ listed: z.boolean() })),
    }),
  ),
});
export type AgentToolsView = z.infer<typeof AgentToolsView>;
