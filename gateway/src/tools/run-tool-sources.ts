import type { GatewayConfig } from "../config";
import type { Logger } from "../logger";
import { createComposioToolSource } from "./composio/composio-tool-source";
import type { RunToolSource } from "./run-tools";

export interface RunToolSourceDeps {
  config: GatewayConfig;
  logger: Logger;
  /** Outgoing requests of the integrations (Composio); default the global fetch. */
  fetch?: typeof fetch;
}

/**
 * The integration tool sources this gateway offers runs, one per kind (MCP, Composio, web). Each
 * reads only its part of a run's integrations, so a run without integrations opens nothing.
 */
export function createRunToolSources(deps: RunToolSourceDeps): { sources: RunToolSource[]; close(): Promise<void> } {
  const sources: RunToolSource[] = [];
  // Composio's endpoint is the operator's (COMPOSIO_BASE_URL, sent with each run by the platform).
  sources.push(createComposioToolSource({ logger: deps.logger, fetch: deps.fetch ?? fetch }));
  const closers: (() => Promise<void>)[] = [];
  return {
    sources,
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
