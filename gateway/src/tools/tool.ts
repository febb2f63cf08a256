import type { ToolMode } from "@workforce/protocol";
import type { AgentPaths } from "@workforce/protocol/tenant-path";
import type { ToolSpec } from "../llm/model-provider";

export interface ToolContext {
  /** Real root of the tenant; every path a tool touches must stay inside the agent workspace below it. */
  tenantRoot: string;
  agent: AgentPaths;
  signal: AbortSignal;
  /** The tenant's disk quota: tools that write ask for room first and report what they changed. */
  disk?: ToolDisk | undefined;
}

/** A tenant's disk quota, bound to the run's tenant. */
export interface ToolDisk {
  /** Throws tenant_quota_exceeded when writing `incomingBytes` more would take the tenant over its quota. */
  assertRoom(incomingBytes: number): Promise<void>;
  /** Bytes the tool just added (negative when it shrank a file). */
  changed(bytes: number): void;
}

/** A tool the model may call. `execute` returns the text given back to the model; throwing makes it an error result. */
export interface Tool {
  spec: ToolSpec;
  execute(input: unknown, context: ToolContext): Promise<string>;
  /** The mode the organisation's grant gives it (MCP and Composio grants): `ask` calls wait for approval. Absent: allowed. */
  grantMode?: ToolMode;
  /** Another name an agent's tool modes may give it (an MCP tool whose model-visible name was shortened: `mcp__{namespace}__{its own name}`). */
  alsoKnownAs?: string;
}
