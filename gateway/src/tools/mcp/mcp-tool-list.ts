import type { Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { MCP_MAX_DESCRIPTION_CHARS, MCP_MAX_SCHEMA_BYTES, type McpOmittedTool, type McpToolInfo } from "@workforce/protocol";

/** A server's tools as the gateway passes them on: bounded, and the ones it will not offer with why. */
export interface McpToolList {
  tools: McpToolInfo[];
  omitted: McpOmittedTool[];
}

/** Longest list read from one server (pages included); a server offering more is cut there. */
export const MCP_MAX_TOOLS = 500;

/**
 * Bounds what a server says about its tools before it reaches a model or the platform: long
 * descriptions are cut, a tool whose input schema is larger than MCP_MAX_SCHEMA_BYTES is not
 * offered (a cut schema would be invalid), duplicates keep the first.
 */
export function boundToolList(listed: readonly McpTool[]): McpToolList {
  const tools: McpToolInfo[] = [];
  const omitted: McpOmittedTool[] = [];
  const seen = new Set<string>();
  for (const tool of listed) {
    if (seen.has(tool.name)) {
      omitted.push({ name: tool.name, reason: "listed twice; the first is kept" });
      continue;
    }
    seen.add(tool.name);
    if (tools.length >= MCP_MAX_TOOLS) {
      omitted.push({ name: tool.name, reason: `the server lists more than ${MCP_MAX_TOOLS} tools` });
      continue;
    }
    const schemaBytes = Buffer.byteLength(JSON.stringify(tool.inputSchema));
    if (schemaBytes > MCP_MAX_SCHEMA_BYTES) {
      omitted.push({ name: tool.name, reason: `its input schema is ${schemaBytes} bytes, over the ${MCP_MAX_SCHEMA_BYTES}-byte limit` });
      continue;
    }
    const description = tool.description ?? tool.title ?? tool.annotations?.title ?? "";
    tools.push({
      name: tool.name,
      description: description.length > MCP_MAX_DESCRIPTION_CHARS ? `${description.slice(0, MCP_MAX_DESCRIPTION_CHARS - 1)}…` : description,
      inputSchema: tool.inputSchema,
    });
  }
  return { tools, omitted };
}
