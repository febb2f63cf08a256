import { createHash } from "node:crypto";

/** What the model providers accept as a tool name (Anthropic and OpenAI alike). */
export const PROVIDER_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const MAX_LENGTH = 64;
const HASH_LENGTH = 8;

/**
 * The name the model sees for an MCP tool: `mcp__{namespace}__{tool}`. The namespace is unique in
 * the organisation and has no `__`, so two servers' tools never share a name. A tool name that
 * needs changing to fit the providers' pattern (characters outside it, or too long) is cut and
 * gets a short hash of the original, so the result is stable from run to run and two tools whose
 * names sanitise alike still differ. Calls are mapped back by the tool object, never by parsing.
 */
export function mcpModelToolName(namespace: string, toolName: string): string {
  const prefix = `mcp__${namespace}__`;
  const sanitised = toolName.replace(/[^a-zA-Z0-9_-]/g, "_");
  const plain = `${prefix}${sanitised}`;
  // A leading "_" would read as part of the separator ("a_" + "x" against "a" + "_x"): hashed too.
  if (sanitised === toolName && !toolName.startsWith("_") && plain.length <= MAX_LENGTH) return plain;
  const hash = createHash("sha256").update(toolName).digest("hex").slice(0, HASH_LENGTH);
  const room = MAX_LENGTH - prefix.length - HASH_LENGTH - 1;
  return `${prefix}${sanitised.slice(0, room)}_${hash}`;
}
