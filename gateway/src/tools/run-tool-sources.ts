import { createGuardedFetch } from "@workforce/net-guard";
import type { GatewayConfig } from "../config";
import type { Logger } from "../logger";
import { createComposioToolSource } from "./composio/composio-tool-source";
import type { RunToolSource } from "./run-tools";

export interface RunToolSourceDeps {
  config: GatewayConfig;
  logger: Logger;
  /** Outgoing requests of the integrations (Composio); default a fetch guarded by the outbound policy (WORKFORCE_OUTBOUND_*). */
  fetch?: typeof fetch;
}

/**
 * The integration tool sources this gateway offers runs, one per kind (MCP, Composio, web). Each
 * reads only its part of a run's integrations, so a run without integrations opens nothing.
 */
export function createRunToolSources(deps: RunToolSourceDeps): { sources: RunToolSource[]; close(): Promise<void> } {
  const sources: RunToolSource[] = [];
  const closers: (() => Promise<void>)[] = [];
  // The Composio endpoint arrives with each run (the platform's COMPOSIO_BASE_URL): through the
  // SSRF guard like every outgoing connection, so a Composio on a private address needs WORKFORCE_OUTBOUND_ALLOW_HOSTS.
  let composioFetch = deps.fetch;
  if (!composioFetch) {
    const guarded = createGuardedFetch(deps.config.outbound);
    closers.push(() => guarded.close());
    composioFetch = guarded;
  }
  sources.push(createComposioToolSource({ logger: deps.logger, fetch: composioFetch }));
  return {
    sources,
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
