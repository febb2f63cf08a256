import { z } from "zod";
import { ErrorDetail } from "./errors";
import { RunMcpServer } from "./integrations";

/*
 * The gateway's MCP probe (`POST /v1/integrations/mcp/tools`): the platform sends a server's
 * connection settings (decrypted headers included) and gets what the server offers, so an admin
 * sees its tools and whether it is reachable before granting any to an agent.
 */

/** A server's connection settings: a RunMcpServer without the grants. */
export const McpServerConnection = RunMcpServer.omit({ tools: true });
export type McpServerConnection = z.infer<typeof McpServerConnection>;
export type McpServerConnectionInput = z.input<typeof McpServerConnection>;

/** Longest tool description passed on (to the model and the platform); longer ones are cut. */
export const MCP_MAX_DESCRIPTION_CHARS = 4_000;
/** Largest input schema (as JSON) passed on; a tool with a larger one is not offered. */
export const MCP_MAX_SCHEMA_BYTES = 32_000;

/** One tool as the server lists it, its description and schema bounded as above. */
export const McpToolInfo = z.object({
  /** The server's own name for it (what grants name). */
  name: z.string().min(1),
  description: z.string(),
  /** JSON Schema of the tool's arguments (an object schema). */
  inputSchema: z.record(z.string(), z.unknown()),
});
export type McpToolInfo = z.infer<typeof McpToolInfo>;

/** A tool the server lists but the gateway will not offer, and why (e.g. its input schema is too large). */
export const McpOmittedTool = z.object({ name: z.string(), reason: z.string() });
export type McpOmittedTool = z.infer<typeof McpOmittedTool>;

export const McpToolsAnswer = z.object({
  /** The server's name and version from its initialize answer. */
  server: z.object({ name: z.string(), version: z.string() }),
  tools: z.array(McpToolInfo),
  omitted: z.array(McpOmittedTool).default([]),
});
export type McpToolsAnswer = z.infer<typeof McpToolsAnswer>;

/**
 * The probe's error body: the usual `{ error: { code, message } }`, and for `mcp_auth_required` the
 * resource-metadata URL the server named in its `WWW-Authenticate` header (RFC 9728), where the
 * platform starts the MCP authorization (OAuth) flow.
 */
export const McpToolsErrorBody = z.object({
  error: ErrorDetail.extend({ resourceMetadataUrl: z.string().url().optional() }),
});
export type McpToolsErrorBody = z.infer<typeof McpToolsErrorBody>;
