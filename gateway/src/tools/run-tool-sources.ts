import { createGuardedFetch } from "@workforce/net-guard";
import type { GatewayCapabilities } from "@workforce/protocol";
import type { GatewayConfig } from "../config";
import type { Logger } from "../logger";
import type { RunToolSource } from "./run-tools";
import { createWebToolSource, webCapabilities, webUserAgent } from "./web/web-tool-source";

export interface RunToolSourceDeps {
  config: Pick<GatewayConfig, "outbound" | "webSearch" | "webFetchInfoUrl">;
  logger: Logger;
  /** The gateway's version, named in the web tools' User-Agent. */
  version: string;
}

/**
 * The integration tool sources this gateway offers runs, one per kind (MCP, Composio, web). Each
 * reads only its part of a run's integrations, so a run without integrations opens nothing.
 * Every outgoing connection they make goes through the one SSRF guard (packages/net-guard).
 */
export function createRunToolSources(deps: RunToolSourceDeps): { sources: RunToolSource[]; capabilities: GatewayCapabilities; close(): Promise<void> } {
  const sources: RunToolSource[] = [];
  const closers: (() => Promise<void>)[] = [];
  const guardedFetch = createGuardedFetch(deps.config.outbound);
  closers.push(() => guardedFetch.close());
  sources.push(createWebToolSource({ fetch: guardedFetch, userAgent: webUserAgent(deps.version, deps.config.webFetchInfoUrl), search: deps.config.webSearch }));
  return {
    sources,
    capabilities: { ...webCapabilities(deps.config.webSearch) },
    async close() {
      await Promise.allSettled(closers.map((close) => close()));
    },
  };
}
