import { randomUUID } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { SSEServerTransport } from "@modelcontextprotocol/sdk/server/sse.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

/** A promise with its resolve, for steps a test controls. */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

export interface McpTestServerOptions {
  transport: "streamable-http" | "sse";
  /** Requests without exactly this Authorization header get 401 with a WWW-Authenticate challenge. */
  authorization?: string;
}

export interface McpTestServer {
  /** The MCP endpoint: `/mcp` (Streamable HTTP) or `/sse` (HTTP+SSE). */
  url: string;
  /** Every Authorization header the server received. */
  authorizations: string[];
  /** MCP sessions the server initialised, and those that ended (DELETE, or the SSE stream closed). */
  sessionsOpened: number;
  sessionsClosed: number;
  /** Resolved when the next session ends. */
  nextSessionClosed(): Promise<void>;
  /** Resolved once a client holds the stream server notifications travel on (Streamable HTTP's GET stream; SSE's own). */
  notificationStreamOpen(): Promise<void>;
  /** The `slow` tool was called; it answers only when `releaseSlow` is called. */
  slowCalled: Deferred;
  /** The client cancelled the `slow` call (notifications/cancelled). */
  slowCancelled: Deferred;
  releaseSlow(): void;
  /** Registers a tool on every live session (each sends notifications/tools/list_changed) and on later ones. */
  addTool(name: string, description: string): void;
  /** Forgets every Streamable HTTP session, as a restarted server would: their requests get 404. */
  forgetSessions(): void;
  close(): Promise<void>;
}

export const RESOURCE_METADATA_PATH = "/.well-known/oauth-protected-resource/mcp";

/**
 * A real MCP server built with the SDK the gateway uses, on 127.0.0.1: tools `echo` (its text
 * back), `fail` (an isError result), `slow` (waits for the test), `picture` (an image and text),
 * `whoami` (echoes the Authorization header, to check redaction), `flood` (that many characters),
 * `hidden` (granted `ask` in the tests: it must only run once approved).
 */
export async function startMcpTestServer(options: McpTestServerOptions): Promise<McpTestServer> {
  const servers = new Set<McpServer>();
  const extraTools: { name: string; description: string }[] = [];
  const streamable = new Map<string, StreamableHTTPServerTransport>();
  const sse = new Map<string, SSEServerTransport>();
  let slowRelease = deferred();
  let closedWaiters: Deferred[] = [];
  let streamWaiters: Deferred[] = [];
  let streamsOpen = 0;

  const state = {
    authorizations: [] as string[],
    sessionsOpened: 0,
    sessionsClosed: 0,
    slowCalled: deferred(),
    slowCancelled: deferred(),
  };

  function sessionClosed(): void {
    state.sessionsClosed += 1;
    const waiters = closedWaiters;
    closedWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  function streamOpened(): void {
    streamsOpen += 1;
    const waiters = streamWaiters;
    streamWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  function newServer(): McpServer {
    const server = new McpServer({ name: "test-docs", version: "1.2.3" });
    server.registerTool("echo", { description: "Echoes the text back.", inputSchema: { text: z.string() } }, ({ text }) => ({ content: [{ type: "text", text: `echo: ${text}` }] }));
    server.registerTool("fail", { description: "Always fails." }, () => ({ isError: true, content: [{ type: "text", text: "the database is locked" }] }));
    server.registerTool("slow", { description: "Answers when the test says so." }, async (extra) => {
      extra.signal.addEventListener("abort", () => state.slowCancelled.resolve());
      state.slowCalled.resolve();
      await slowRelease.promise;
      return { content: [{ type: "text", text: "finally" }] };
    });
    server.registerTool("picture", { description: "A picture and a caption." }, () => ({
      content: [
        { type: "image", data: Buffer.alloc(3000).toString("base64"), mimeType: "image/png" },
        { type: "text", text: "a white square" },
      ],
    }));
    server.registerTool("whoami", { description: "Tells who called." }, (extra) => ({
      content: [{ type: "text", text: `you sent ${String(extra.requestInfo?.headers.authorization)}` }],
    }));
    server.registerTool("flood", { description: "Sends that many characters.", inputSchema: { characters: z.number().int() } }, ({ characters }) => ({
      content: [{ type: "text", text: "x".repeat(characters) }],
    }));
    server.registerTool("hidden", { description: "Granted only with approval." }, () => ({ content: [{ type: "text", text: "should not run" }] }));
    for (const tool of extraTools) registerExtra(server, tool);
    servers.add(server);
    return server;
  }

  function registerExtra(server: McpServer, tool: { name: string; description: string }): void {
    server.registerTool(tool.name, { description: tool.description }, () => ({ content: [{ type: "text", text: `${tool.name} done` }] }));
  }

  async function handleStreamable(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const sessionId = request.headers["mcp-session-id"];
    let transport = typeof sessionId === "string" ? streamable.get(sessionId) : undefined;
    if (!transport) {
      if (typeof sessionId === "string" || request.method !== "POST") {
        response.writeHead(404).end();
        return;
      }
      const server = newServer();
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: randomUUID,
        onsessioninitialized: (id) => {
          state.sessionsOpened += 1;
          streamable.set(id, created);
        },
        onsessionclosed: (id) => {
          streamable.delete(id);
          servers.delete(server);
          sessionClosed();
        },
      });
      await server.connect(created);
      transport = created;
    }
    if (request.method === "GET") {
      // The standalone stream is registered by the time its headers go out.
      const writeHead = response.writeHead.bind(response) as (...args: unknown[]) => ServerResponse;
      response.writeHead = ((...args: unknown[]) => {
        const result = writeHead(...args);
        if (response.statusCode === 200) streamOpened();
        return result;
      });
    }
    await transport.handleRequest(request, response);
  }

  async function handleSse(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (request.method === "GET" && url.pathname === "/sse") {
      const server = newServer();
      const transport = new SSEServerTransport("/messages", response);
      sse.set(transport.sessionId, transport);
      state.sessionsOpened += 1;
      response.on("close", () => {
        sse.delete(transport.sessionId);
        servers.delete(server);
        sessionClosed();
      });
      await server.connect(transport);
      streamOpened();
      return;
    }
    const transport = sse.get(url.searchParams.get("sessionId") ?? "");
    if (request.method === "POST" && url.pathname === "/messages" && transport) {
      await transport.handlePostMessage(request, response);
      return;
    }
    response.writeHead(404).end();
  }

  const httpServer = http.createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const authorization = request.headers.authorization;
    if (authorization !== undefined) state.authorizations.push(authorization);
    if (options.authorization !== undefined && authorization !== options.authorization) {
      response.writeHead(401, { "www-authenticate": `Bearer resource_metadata="${base}${RESOURCE_METADATA_PATH}"`, "content-type": "application/json" });
      response.end(JSON.stringify({ error: "invalid_token", seen: authorization ?? null }));
      return;
    }
    const handled = options.transport === "sse" ? handleSse(request, response, url) : handleStreamable(request, response);
    handled.catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  const base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;

  return {
    url: `${base}${options.transport === "sse" ? "/sse" : "/mcp"}`,
    get authorizations() {
      return state.authorizations;
    },
    get sessionsOpened() {
      return state.sessionsOpened;
    },
    get sessionsClosed() {
      return state.sessionsClosed;
    },
    nextSessionClosed() {
      const waiter = deferred();
      closedWaiters.push(waiter);
      return waiter.promise;
    },
    notificationStreamOpen() {
      if (streamsOpen > 0) return Promise.resolve();
      const waiter = deferred();
      streamWaiters.push(waiter);
      return waiter.promise;
    },
    get slowCalled() {
      return state.slowCalled;
    },
    get slowCancelled() {
      return state.slowCancelled;
    },
    releaseSlow() {
      slowRelease.resolve();
      slowRelease = deferred();
    },
    addTool(name, description) {
      const tool = { name, description };
      extraTools.push(tool);
      for (const server of servers) registerExtra(server, tool);
    },
    forgetSessions() {
      streamable.clear();
    },
    async close() {
      slowRelease.resolve();
      for (const server of servers) await server.close().catch(() => undefined);
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
