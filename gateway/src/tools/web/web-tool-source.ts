import type { GatewayCapabilities } from "@workforce/protocol";
import type { WebSearchConfig } from "../../config";
import type { RunToolSource } from "../run-tools";
import type { Tool } from "../tool";
import { createRobotsRules } from "./robots-rules";
import { createWebFetchTool, type WebFetchOptions } from "./web-fetch-tool";
import { createWebSearchTool } from "./web-search-tool";

/** The name robots.txt groups address us by. */
export const WEB_BOT_TOKEN = "WorkforceBot";

/**
 * `WorkforceBot/<version> (+<info url>)`: who is fetching, and where a site owner reads about it
 * (the operator's page, WEB_FETCH_INFO_URL). Without one it says what it is and that it honours robots.txt.
 */
export function webUserAgent(version: string, infoUrl: string | undefined): string {
  return `${WEB_BOT_TOKEN}/${version} (${infoUrl ? `+${infoUrl}` : "self-hosted Workforce agent; honours robots.txt"})`;
}

export interface WebToolSourceOptions {
  /** The guarded fetch every web request goes through. */
  fetch: typeof fetch;
  userAgent: string;
  /** The operator's search provider; undefined: web_search is never offered. */
  search: WebSearchConfig | undefined;
  /** Limits of web_fetch (tests make them small). */
  limits?: Pick<WebFetchOptions, "maxBytes" | "timeoutMs" | "maxChars">;
}

/** What the web tools offer, for `GET /v1/capabilities`. */
export function webCapabilities(search: WebSearchConfig | undefined): Pick<GatewayCapabilities, "webFetch" | "webSearch"> {
  return { webFetch: true, webSearch: search ? { provider: search.provider } : null };
}

/**
 * The web tools as a run's tool source: `web_fetch` when the run's `integrations.web.fetch` is
 * on, `web_search` when `integrations.web.search` is and the operator configured a provider.
 * robots.txt rules are shared by every run (they are the sites', not the tenants').
 */
export function createWebToolSource(options: WebToolSourceOptions): RunToolSource {
  const robots = createRobotsRules({ fetch: options.fetch, userAgent: options.userAgent, productToken: WEB_BOT_TOKEN });
  const webFetch = createWebFetchTool({ fetch: options.fetch, robots, userAgent: options.userAgent, ...options.limits });
  const webSearch = options.search ? createWebSearchTool({ provider: options.search, fetch: options.fetch, userAgent: options.userAgent }) : undefined;
  return {
    async open({ integrations }) {
      const tools: Tool[] = [];
      if (integrations.web.fetch) tools.push(webFetch);
      if (integrations.web.search && webSearch) tools.push(webSearch);
      return { tools, close: () => undefined };
    },
  };
}
