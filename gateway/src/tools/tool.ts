import type { AgentPaths } from "@workforce/protocol/tenant-path";
import type { ToolSpec } from "../llm/model-provider";

export interface ToolContext {
  /** Real root of the tenant; every path a tool touches must stay inside the agent workspace below it. */
  tenantRoot: string;
  agent: AgentPaths;
  signal: AbortSignal;
}

/** A tool the model may call. `execute` returns the text given back to the model; throwing makes it an error result. */
export interface Tool {
  spec: ToolSpec;
  execute(input: unknown, context: ToolContext): Promise<string>;
}
