import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { extractWWWAuthenticateParams } from "@modelcontextprotocol/sdk/client/auth.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { FetchLike, Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult, Tool as McpTool } from "@modelcontextprotocol/sdk/types.js";
import { AppError, type McpServerConnection } from "@workforce/protocol";
import { mcpError, secretValues, type McpErrorContext } from "./mcp-errors";
import { boundToolList, MCP_MAX_TOOLS, type McpToolList } from "./mcp-tool-list";

/** Pages of a tool list read at the most (a server handing out cursors forever is cut off there). */
const MAX_TOOL_PAGES = 50;

/** Who the gateway says it is in the MCP initialize request. */
export const MCP_CLIENT_INFO = { name: "workforce-gateway", version: "0.1.0" };

export interface McpSessionOptions {
  server: McpServerConnection;
  /** Every request to the server goes through it (the SSRF guard in production). */
  fetch: FetchLike;
  /** Longest wait for a tool call. */
  timeoutMs: number;
  /** Longest wait for initialize and for each page of the tool list. */
  connectTimeoutMs: number;
  /** Most bytes read of the answer to one request; a larger answer closes the session (mcp_result_too_large). */
  maxResponseBytes: number;
  /** The server said its tools changed (notifications/tools/list_changed): the cached list is dropped. */
  onToolsChanged?: () => void;
  /** The connection ended (the server closed it, or close() was called). */
  onClosed?: () => void;
}

/** One MCP client session with one server, for one tenant. */
export interface McpSession {
  readonly server: { name: string; version: string };
  readonly closed: boolean;
  /** The server's tools, listed once and cached until the server says they changed. */
  tools(): Promise<McpToolList>;
  call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<CallToolResult>;
  /** Ends the session at the server (DELETE for Streamable HTTP) and closes the connection. */
  close(): Promise<void>;
}

/**
 * Connects to a server with the official SDK client: Streamable HTTP, or the older HTTP+SSE
 * transport. The server's headers ride on every request (requestInit) and never appear in an
 * error or log line (see mcp-errors). Redirects stay within the server's origin (the SDK's
 * default), so headers never reach another host.
 */
export async function connectMcpSession(options: McpSessionOptions, signal: AbortSignal): Promise<McpSession> {
  const { server } = options;
  const secrets = secretValues(server.headers);
  const observed: { resourceMetadataUrl?: string | undefined; tooLarge?: boolean; refused?: AppError } = {};
  const context = (action: string): McpErrorContext => ({
    namespace: server.namespace,
    action,
    secrets,
    resourceMetadataUrl: observed.resourceMetadataUrl,
    tooLargeAfterBytes: observed.tooLarge ? options.maxResponseBytes : undefined,
    refused: observed.refused,
  });
  const fetchFn: FetchLike = async (url, init) => {
    let response: Response;
    try {
      response = await options.fetch(url, init);
    } catch (error) {
      // The SSE transport's event source reports a failed fetch without its cause: kept here.
      if (error instanceof AppError) observed.refused = error;
      throw error;
    }
    if (response.status === 401) observed.resourceMetadataUrl = extractWWWAuthenticateParams(response).resourceMetadataUrl?.href;
    // The answers to requests (POST) are bounded; the long-lived GET stream carries only notifications.
    if (init?.method !== "POST" || response.status !== 200 || !response.body) return response;
    return limitedResponse(response, options.maxResponseBytes, () => {
      observed.tooLarge = true;
      // Pending requests then fail at once (connection closed) instead of waiting for their timeout.
      void close();
    });
  };
  const url = new URL(server.url);
  const requestInit: RequestInit = { headers: { ...server.headers } };
  const transport: Transport =
    server.transport === "sse"
      ? new SSEClientTransport(url, { requestInit, fetch: fetchFn })
      : new StreamableHTTPClientTransport(url, { requestInit, fetch: fetchFn });
  let closed = false;
  let listing: Promise<McpToolList> | undefined;
  const client = new Client(MCP_CLIENT_INFO, {
    capabilities: {},
    listChanged: {
      tools: {
        // Dropped, not re-listed at once: the next run lists again, and a burst of changes costs one listing.
        autoRefresh: false,
        debounceMs: 0,
        onChanged: () => {
          listing = undefined;
          options.onToolsChanged?.();
        },
      },
    },
  });
  client.onclose = () => {
    closed = true;
    options.onClosed?.();
  };
  // Transport errors (a dropped notification stream it reconnects) surface on the next request.
  client.onerror = () => undefined;
  try {
    await client.connect(transport, { signal, timeout: options.connectTimeoutMs });
  } catch (error) {
    await client.close().catch(() => undefined);
    throw mcpError(error, context("connect"));
  }
  const version = client.getServerVersion();

  async function close(): Promise<void> {
    if (closed) return;
    // Set first: the pool must not lend a session that is on its way out.
    closed = true;
    if (transport instanceof StreamableHTTPClientTransport) await transport.terminateSession().catch(() => undefined);
    await client.close().catch(() => undefined);
  }

  /**
   * A session the server no longer honours (it forgot it: 404; it wants new credentials: 401; the
   * connection is gone) is closed, so the pool opens a fresh one for the next run.
   */
  function failed(error: AppError): AppError {
    if (error.code === "mcp_unavailable" || error.code === "mcp_auth_required") void close();
    return error;
  }

  // Not tied to one run's signal: runs sharing the session share the listing too.
  async function listAll(): Promise<McpToolList> {
    const listed: McpTool[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      pages += 1;
      const page = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: options.connectTimeoutMs });
      listed.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined && listed.length <= MCP_MAX_TOOLS && pages < MAX_TOOL_PAGES);
    return boundToolList(listed);
  }

  return {
    server: { name: version?.name ?? "", version: version?.version ?? "" },
    get closed() {
      return closed;
    },
    async tools() {
      const current = (listing ??= listAll());
      try {
        return await current;
      } catch (error) {
        if (listing === current) listing = undefined;
        throw failed(mcpError(error, context("list tools")));
      }
    },
    async call(name, args, callSignal) {
      try {
        return (await client.callTool({ name, arguments: args }, undefined, { signal: callSignal, timeout: options.timeoutMs })) as CallToolResult;
      } catch (error) {
        throw failed(mcpError(error, context(`call ${name}`)));
      }
    },
    close,
  };
}

/** The response with its body cut off (an error) once more than `maxBytes` have arrived. */
function limitedResponse(response: Response, maxBytes: number, exceeded: () => void): Response {
  let seen = 0;
  const body = response.body!.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        seen += chunk.byteLength;
        if (seen <= maxBytes) {
          controller.enqueue(chunk);
          return;
        }
        exceeded();
        controller.error(new Error(`the answer exceeded ${maxBytes} bytes`));
      },
    }),
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
