import type { GatewayConfig } from "../config";
import type { Logger } from "../logger";
import type { RunToolSource } from "./run-tools";

export interface RunToolSourceDeps {
  config: GatewayConfig;
  logger: Logger;
}

/**
 * The integration tool sources this gateway offers runs, one per kind (MCP, Composio, web). Each
 * reads only its part of a run's integrations, so a run without integrations opens nothing.
 */
export function createRunToolSources(_deps: RunToolSourceDeps): { sources: RunToolSource[]; close(): Promise<void> } {
  const sources: RunToolSource[] = [];
  const closers: (() => Promise<void>)[] = [];
  return {
    sources,
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
