import { AppError } from "@workforce/protocol";
import { z } from "zod";
import type { WebSearchConfig } from "../../config";
import { defineTool } from "../define-tool";
import type { Tool } from "../tool";
import { fetchFailure, withTimeout } from "./web-request";

export interface WebSearchOptions {
  provider: WebSearchConfig;
  /** The guarded fetch: the provider's endpoint is an outgoing connection like any other. */
  fetch: typeof fetch;
  userAgent: string;
  /** Longest a search may take (default 15 s). */
  timeoutMs?: number;
}

/** One result as the model reads it. */
interface SearchResult {
  title: string;
  url: string;
  snippet: string;
}

/** Brave Search API's answer to `GET /res/v1/web/search` (the fields we read; `web` is absent when nothing matched). */
const BraveAnswer = z.object({
  web: z.object({ results: z.array(z.object({ title: z.string(), url: z.string(), description: z.string().optional() })) }).optional(),
});

/** SearXNG's answer to `GET /search?format=json`. */
const SearxngAnswer = z.object({
  results: z.array(z.object({ title: z.string().optional(), url: z.string(), content: z.string().optional() })),
});

const WebSearchInput = z.object({
  query: z.string().trim().min(1).max(400),
  count: z.number().int().min(1).max(10).default(5),
});

/** The provider's request for a query: its URL and headers (the key only in a header, never in the URL). */
function providerRequest(provider: WebSearchConfig, query: string, count: number): { url: URL; headers: Record<string, string> } {
  if (provider.provider === "brave") {
    const url = new URL("/res/v1/web/search", provider.baseUrl);
    url.search = new URLSearchParams({ q: query, count: String(count) }).toString();
    return { url, headers: { accept: "application/json", "x-subscription-token": provider.apiKey } };
  }
  const url = new URL(`${provider.baseUrl}/search`);
  url.search = new URLSearchParams({ q: query, format: "json" }).toString();
  return { url, headers: { accept: "application/json" } };
}

function providerName(provider: WebSearchConfig): string {
  return provider.provider === "brave" ? "Brave Search" : "the SearXNG instance";
}

/** Why the provider said no, in words the operator can act on; the key itself is never named. */
function refusal(provider: WebSearchConfig, status: number): AppError {
  const name = providerName(provider);
  if ((status === 401 || status === 403) && provider.provider === "brave") {
    return new AppError("web_search_failed", `${name} refused the operator's WEB_SEARCH_API_KEY (HTTP ${status}); the operator has to check it`);
  }
  if (status === 403 && provider.provider === "searxng") {
    return new AppError("web_search_failed", `${name} refused the JSON format (HTTP 403); the operator has to enable "json" under search.formats in its settings.yml`);
  }
  if (status === 429) return new AppError("web_search_failed", `${name} says too many searches were made (HTTP 429); try again later`, { retryable: true });
  return new AppError("web_search_failed", `${name} failed (HTTP ${status})`);
}

function plain(text: string): string {
  return text
    .replace(/<[^>]*>/g, "")
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ")
    .trim();
}

function resultsOf(provider: WebSearchConfig, body: unknown, count: number): SearchResult[] | undefined {
  if (provider.provider === "brave") {
    const parsed = BraveAnswer.safeParse(body);
    return parsed.success ? (parsed.data.web?.results ?? []).slice(0, count).map((result) => ({ title: result.title, url: result.url, snippet: result.description ?? "" })) : undefined;
  }
  const parsed = SearxngAnswer.safeParse(body);
  return parsed.success ? parsed.data.results.slice(0, count).map((result) => ({ title: result.title ?? result.url, url: result.url, snippet: result.content ?? "" })) : undefined;
}

/** `web_search` through the operator's provider (Brave Search API or SearXNG), answering a numbered list of results. */
export function createWebSearchTool(options: WebSearchOptions): Tool {
  const { provider } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  return defineTool({
    name: "web_search",
    description: "Search the web. Answers the top results (title, URL and a snippet each); read a result with web_fetch.",
    input: WebSearchInput,
    async run(input, context) {
      const { url, headers } = providerRequest(provider, input.query, input.count);
      return withTimeout(context.signal, timeoutMs, `${providerName(provider)} did not answer within ${timeoutMs / 1000} s`, async (signal) => {
        let response: Response;
        try {
          response = await options.fetch(url, { headers: { ...headers, "user-agent": options.userAgent }, signal });
        } catch (error) {
          throw fetchFailure(error, url.host, "web_search_failed");
        }
        if (!response.ok) {
          await response.body?.cancel();
          throw refusal(provider, response.status);
        }
        const body: unknown = await response.json().catch(() => undefined);
        const results = resultsOf(provider, body, input.count);
        if (!results) throw new AppError("web_search_failed", `${providerName(provider)} sent an answer that is not search results`);
        if (results.length === 0) return `No results for "${input.query}".`;
        return results.map((result, index) => `${index + 1}. [${plain(result.title)}](${result.url})${result.snippet ? `\n   ${plain(result.snippet)}` : ""}`).join("\n");
      });
    },
  });
}
