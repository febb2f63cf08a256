import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { createGuardedFetch, type GuardedFetch } from "@workforce/net-guard";
import { GatewayCapabilities, SessionHistory, type RunEvent, type RunIntegrationsInput } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { WebSearchConfig } from "../../config";
import { createProviders } from "../../llm/create-providers";
import { readRunEvents, replyText, startTestGateway, TENANT_A, type TestGateway } from "../../test-support/test-gateway";
import { createWebToolSource, webCapabilities, webUserAgent } from "./web-tool-source";

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

interface LocalServer {
  port: number;
  url: string;
  /** Requests so far: path and headers. */
  requests: { path: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

async function startServer(routes: Record<string, Handler>): Promise<LocalServer> {
  const requests: LocalServer["requests"] = [];
  const server: Server = createServer((request, response) => {
    const path = request.url ?? "/";
    requests.push({ path, headers: request.headers });
    const handler = routes[path.split("?")[0]!];
    if (handler) handler(request, response);
    else response.writeHead(404, { "content-type": "text/plain" }).end("not here");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const ARTICLE = `<!doctype html><html><head><title>Brewing green tea</title></head><body>
<nav><a href="/">Home</a> · <a href="/shop">Shop</a> · <a href="/login">Sign in</a></nav>
<article><h1>Brewing green tea</h1>
<p>Green tea is best brewed at <strong>80 °C</strong> for two minutes. Boiling water scalds the leaves and the cup turns bitter, which is why so many people think they dislike green tea.</p>
<p>Other teas want other temperatures: see <a href="/steeping">the steeping table</a>. Oolong wants hotter water; white tea cooler water and a longer steep.</p>
<ul><li>Sencha: 70–80 °C</li><li>Gyokuro: 50–60 °C</li></ul>
<script>trackVisitor()</script></article>
<footer>Cookie settings · Newsletter</footer></body></html>`;

const MAX_BYTES = 8 * 1024;

let upstream: FakeUpstream;
let site: LocalServer;
let intranet: LocalServer;
let searchProvider: LocalServer;
const searches: { path: string; token: string | undefined }[] = [];
let harness: TestGateway | undefined;
let guardedFetch: GuardedFetch | undefined;

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
  site = await startServer({
    "/robots.txt": (_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("User-agent: *\nDisallow: /admin\n\nUser-agent: WorkforceBot\nDisallow: /private/\n"),
    "/tea": (_request, response) => response.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(ARTICLE),
    "/moved": (_request, response) => response.writeHead(302, { location: "/tea" }).end(),
    "/to-intranet": (_request, response) => response.writeHead(302, { location: `${intranet.url}/secrets` }).end(),
    "/private/notes": (_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("the crawler must never see this"),
    "/huge.txt": (_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("tea ".repeat(MAX_BYTES)),
    "/photo.png": (_request, response) => response.writeHead(200, { "content-type": "image/png" }).end(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0])),
    // Answers never: what a stuck site looks like.
    "/stuck": () => undefined,
    "/prices.json": (_request, response) => response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ sencha: 12.5, gyokuro: 38 })),
  });
  intranet = await startServer({ "/secrets": (_request, response) => response.writeHead(200, { "content-type": "text/plain" }).end("internal only") });
  // A local fake of exactly the provider endpoints web_search calls (Brave's and SearXNG's).
  searchProvider = await startServer({
    "/res/v1/web/search": (request, response) => {
      const token = request.headers["x-subscription-token"];
      searches.push({ path: request.url ?? "", token: typeof token === "string" ? token : undefined });
      if (token !== "brave-token") return void response.writeHead(401, { "content-type": "application/json" }).end(JSON.stringify({ type: "ErrorResponse" }));
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          type: "search",
          query: { original: "green tea temperature" },
          web: {
            type: "search",
            results: [
              { title: "Brewing <strong>green tea</strong>", url: "https://tea.example/green", description: "Brew at <strong>80 °C</strong> for two minutes." },
              { title: "Tea temperatures", url: "https://tea.example/table", description: "A table of steeping temperatures." },
            ],
          },
        }),
      );
    },
    "/search": (request, response) => {
      searches.push({ path: request.url ?? "", token: undefined });
      const params = new URL(request.url ?? "/", "http://x").searchParams;
      if (params.get("format") !== "json") return void response.writeHead(403).end("Forbidden");
      response.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({ query: params.get("q"), number_of_results: 1, results: [{ url: "https://searx.example/oolong", title: "Oolong", content: "Hotter water for oolong.", engine: "duckduckgo" }] }),
      );
    },
  });
});

afterAll(async () => {
  await Promise.all([upstream.close(), site.close(), intranet.close(), searchProvider.close()]);
});

afterEach(async () => {
  await harness?.cleanup();
  await guardedFetch?.close();
  harness = undefined;
  guardedFetch = undefined;
  upstream.reset();
  searches.length = 0;
});

/**
 * A gateway with the Anthropic SDK on the fake model and the web tools, whose guard allows the
 * local site and search provider by host:port (as an operator would) but not the "intranet".
 */
async function gatewayWithWebTools(search?: WebSearchConfig, timeoutMs?: number) {
  guardedFetch = createGuardedFetch({ allowPrivateNetwork: false, allowHosts: [`127.0.0.1:${site.port}`, `127.0.0.1:${searchProvider.port}`] });
  harness = await startTestGateway({
    providers: createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: undefined }),
    config: { defaultModel: "claude-fake-1" },
    runToolSources: [createWebToolSource({ fetch: guardedFetch, userAgent: webUserAgent("0.1.0", "https://operator.example/bot"), search, limits: { maxBytes: MAX_BYTES, ...(timeoutMs === undefined ? {} : { timeoutMs }) } })],
    capabilities: { ...webCapabilities(search) },
  });
  await harness.createAgent(TENANT_A);
  return harness;
}

async function run(h: TestGateway, message: string, web: RunIntegrationsInput["web"] = { fetch: true, search: true }): Promise<RunEvent[]> {
  const body = { message, sessionKey: "web", integrations: { web } };
  return readRunEvents(await h.request("POST", "/v1/agents/ada/runs", { body, headers: { accept: "text/event-stream" } }));
}

/** The one tool call's result, as the run streamed it and as the transcript keeps it. */
async function toolResult(h: TestGateway, events: RunEvent[]) {
  const ended = events.find((event) => event.type === "tool-call-end");
  if (ended?.type !== "tool-call-end") throw new Error(`no tool call ended: ${JSON.stringify(events.map((event) => event.type))}`);
  const history = SessionHistory.parse(await (await h.request("GET", "/v1/agents/ada/sessions/web")).json());
  const entry = history.entries.find((candidate) => candidate.type === "tool-result");
  return { streamed: ended, transcript: entry?.type === "tool-result" ? entry : undefined };
}

/** The tool names the model was offered in the first request of the run. */
function offeredTools(): string[] {
  const body = upstream.requests[0]!.body as { tools?: { name: string }[] };
  return (body.tools ?? []).map((tool) => tool.name);
}

describe("web_fetch in a run", () => {
  it("reads an HTML page as Markdown of its main content, into the reply and the transcript", async () => {
    const h = await gatewayWithWebTools();
    upstream.enqueue({ kind: "tool_use", name: "web_fetch", input: { url: `${site.url}/moved` } }, { kind: "text", text: "Brew it at 80 °C." });
    const events = await run(h, "How hot should green tea be?");
    expect(replyText(events)).toBe("Brew it at 80 °C.");
    const { streamed, transcript } = await toolResult(h, events);
    expect(streamed.isError).toBe(false);
    expect(streamed.output).toContain(`URL: ${site.url}/tea`);
    expect(streamed.output).toContain("Title: Brewing green tea");
    expect(streamed.output).toContain("**80 °C**");
    expect(streamed.output).toContain(`[the steeping table](${site.url}/steeping)`);
    expect(streamed.output).toMatch(/^- +Sencha: 70–80 °C$/m);
    expect(streamed.output).not.toContain("trackVisitor");
    expect(streamed.output).not.toContain("Cookie settings");
    expect(transcript).toMatchObject({ name: "web_fetch", isError: false, output: streamed.output });
    // The model got the page as the tool result.
    const second = upstream.requests[1]!.body as { messages: { content: { type: string; content?: unknown }[] }[] };
    expect(JSON.stringify(second.messages.at(-1))).toContain("80 °C");
    const pageRequest = site.requests.find((request) => request.path === "/tea");
    expect(pageRequest?.headers["user-agent"]).toBe("WorkforceBot/0.1.0 (+https://operator.example/bot)");
    expect(site.requests.filter((request) => request.path === "/robots.txt")).toHaveLength(1);
  });

  it("hands back JSON as it is", async () => {
    const h = await gatewayWithWebTools();
    upstream.enqueue({ kind: "tool_use", name: "web_fetch", input: { url: `${site.url}/prices.json` } }, { kind: "text", text: "ok" });
    const { streamed } = await toolResult(h, await run(h, "Prices?"));
    expect(streamed).toMatchObject({ isError: false });
    expect(streamed.output).toContain('{"sencha":12.5,"gyokuro":38}');
  });

  it("does not fetch what robots.txt disallows to WorkforceBot", async () => {
    const h = await gatewayWithWebTools();
    upstream.enqueue({ kind: "tool_use", name: "web_fetch", input: { url: `${site.url}/private/notes` } }, { kind: "text", text: "I may not read that." });
    const events = await run(h, "Read the private notes");
    const { streamed, transcript } = await toolResult(h, events);
    expect(streamed.isError).toBe(true);
    expect(streamed.output).toMatch(/^web_robots_disallowed: .*robots\.txt does not allow WorkforceBot to fetch \/private\/notes/);
    expect(transcript?.output).toBe(streamed.output);
    expect(site.requests.map((request) => request.path)).not.toContain("/private/notes");
    expect(replyText(events)).toBe("I may not read that.");
  });

  it("cuts a body larger than the limit, and says so", async () => {
    const h = await gatewayWithWebTools();
    upstream.enqueue({ kind: "tool_use", name: "web_fetch", input: { url: `${site.url}/huge.txt` } }, { kind: "text", text: "ok" });
    const { streamed } = await toolResult(h, await run(h, "Read the huge file"));
    expect(streamed.isError).toBe(false);
    expect(streamed.output).toContain("[cut: the page is larger than");
    expect(streamed.output.split("tea ").length - 1).toBe(MAX_BYTES / 4);
  });

  it("refuses binary content with a clear code", async () => {
    const h = await gatewayWithWebTools();
    upstream.enqueue({ kind: "tool_use", name: "web_fetch", input: { url: `${site.url}/photo.png` } }, { kind: "text", text: "ok" });
    const { streamed } = await toolResult(h, await run(h, "Look at the photo"));
    expect(streamed).toMatchObject({ isError: true });
    expect(streamed.output).toMatch(/^web_unsupported_content: .*photo\.png is image\/png, not a page/);
  });

  it("refuses a private address the operator did not allow, also behind a redirect, naming how to allow it", async () => {
    const h = await gatewayWithWebTools();
    upstream.enqueue(
      { kind: "tool_use", name: "web_fetch", input: { url: `${intranet.url}/secrets` } },
      { kind: "tool_use", name: "web_fetch", input: { url: `${site.url}/to-intranet` } },
      { kind: "text", text: "Both refused." },
    );
    const events = await run(h, "Read the intranet");
    const results = events.filter((event) => event.type === "tool-call-end");
    expect(results).toHaveLength(2);
    for (const result of results) {
      expect(result).toMatchObject({ isError: true });
      if (result.type === "tool-call-end") {
        expect(result.output).toMatch(new RegExp(`^outbound_blocked: Outbound connection to 127\\.0\\.0\\.1:${intranet.port} refused: a loopback address`));
        expect(result.output).toContain(`WORKFORCE_OUTBOUND_ALLOW_HOSTS=127.0.0.1:${intranet.port}`);
      }
    }
    expect(intranet.requests).toEqual([]);
  });

  it("gives up on a site that does not answer within the time limit", async () => {
    const h = await gatewayWithWebTools(undefined, 300);
    upstream.enqueue({ kind: "tool_use", name: "web_fetch", input: { url: `${site.url}/stuck` } }, { kind: "text", text: "The site did not answer." });
    const events = await run(h, "Read the stuck page");
    const { streamed } = await toolResult(h, events);
    expect(streamed).toMatchObject({ isError: true });
    expect(streamed.output).toMatch(new RegExp(`^web_timeout: 127\\.0\\.0\\.1:${site.port} did not answer within 0\\.3 s`));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
  });

  it("is offered only when the run's integrations turn it on", async () => {
    const h = await gatewayWithWebTools();
    upstream.enqueue({ kind: "text", text: "no web" });
    await run(h, "Hi", { fetch: false, search: false });
    expect(offeredTools()).not.toContain("web_fetch");
    upstream.reset();
    upstream.enqueue({ kind: "text", text: "with web" });
    await run(h, "Hi", { fetch: true, search: false });
    expect(offeredTools()).toContain("web_fetch");
    expect(offeredTools()).not.toContain("web_search");
  });
});

describe("web_search in a run", () => {
  it("asks Brave Search with the operator's token and answers the results", async () => {
    const h = await gatewayWithWebTools(brave());
    upstream.enqueue({ kind: "tool_use", name: "web_search", input: { query: "green tea temperature", count: 2 } }, { kind: "text", text: "80 °C." });
    const { streamed, transcript } = await toolResult(h, await run(h, "Search it"));
    expect(streamed.isError).toBe(false);
    expect(streamed.output).toBe("1. [Brewing green tea](https://tea.example/green)\n   Brew at 80 °C for two minutes.\n2. [Tea temperatures](https://tea.example/table)\n   A table of steeping temperatures.");
    expect(transcript?.output).toBe(streamed.output);
    expect(searches).toEqual([{ path: "/res/v1/web/search?q=green+tea+temperature&count=2", token: "brave-token" }]);
  });

  it("says the provider refused the operator's key, without showing it", async () => {
    const h = await gatewayWithWebTools(brave("wrong-token-1234"));
    upstream.enqueue({ kind: "tool_use", name: "web_search", input: { query: "tea" } }, { kind: "text", text: "ok" });
    const { streamed } = await toolResult(h, await run(h, "Search it"));
    expect(streamed.isError).toBe(true);
    expect(streamed.output).toMatch(/^web_search_failed: Brave Search refused the operator's WEB_SEARCH_API_KEY/);
    expect(streamed.output).not.toContain("wrong-token");
  });

  it("asks a SearXNG instance for JSON", async () => {
    const h = await gatewayWithWebTools({ provider: "searxng", baseUrl: searchProvider.url });
    upstream.enqueue({ kind: "tool_use", name: "web_search", input: { query: "oolong" } }, { kind: "text", text: "ok" });
    const { streamed } = await toolResult(h, await run(h, "Search it"));
    expect(streamed.output).toBe("1. [Oolong](https://searx.example/oolong)\n   Hotter water for oolong.");
    expect(searches).toEqual([{ path: "/search?q=oolong&format=json", token: undefined }]);
  });

  it("goes through the guard: a SearXNG on a private address the operator did not allow is refused", async () => {
    const h = await gatewayWithWebTools({ provider: "searxng", baseUrl: intranet.url });
    upstream.enqueue({ kind: "tool_use", name: "web_search", input: { query: "oolong" } }, { kind: "text", text: "ok" });
    const { streamed } = await toolResult(h, await run(h, "Search it"));
    expect(streamed.output).toMatch(/^outbound_blocked: /);
    expect(intranet.requests).toEqual([]);
  });

  it("is not offered when the run's web.search is off, or no provider is configured", async () => {
    let h = await gatewayWithWebTools(brave());
    upstream.enqueue({ kind: "text", text: "ok" });
    await run(h, "Hi", { fetch: true, search: false });
    expect(offeredTools()).toEqual(expect.arrayContaining(["web_fetch"]));
    expect(offeredTools()).not.toContain("web_search");
    await harness?.cleanup();
    await guardedFetch?.close();
    upstream.reset();

    h = await gatewayWithWebTools(undefined);
    upstream.enqueue({ kind: "text", text: "ok" });
    await run(h, "Hi", { fetch: true, search: true });
    expect(offeredTools()).toContain("web_fetch");
    expect(offeredTools()).not.toContain("web_search");
  });
});

describe("GET /v1/capabilities", () => {
  it("tells the platform whether web search is available, and through which provider", async () => {
    let h = await gatewayWithWebTools(brave());
    expect(GatewayCapabilities.parse(await (await h.request("GET", "/v1/capabilities", { tenant: null })).json())).toEqual({ webFetch: true, webSearch: { provider: "brave" } });
    await harness?.cleanup();
    await guardedFetch?.close();
    h = await gatewayWithWebTools(undefined);
    expect(await (await h.request("GET", "/v1/capabilities", { tenant: null })).json()).toEqual({ webFetch: true, webSearch: null });
  });

  it("needs the hook token", async () => {
    const locked = await startTestGateway({ hookToken: "hook-secret", capabilities: { webFetch: true, webSearch: null } });
    try {
      expect((await locked.request("GET", "/v1/capabilities", { tenant: null, headers: { authorization: "Bearer wrong" } })).status).toBe(401);
      expect((await locked.request("GET", "/v1/capabilities", { tenant: null })).status).toBe(200);
    } finally {
      await locked.cleanup();
    }
  });
});

function brave(apiKey = "brave-token"): WebSearchConfig {
  return { provider: "brave", apiKey, baseUrl: searchProvider.url };
}
