import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { handleAnthropicCountTokens, handleAnthropicMessages } from "./anthropic/messages-route";
import { handleModels, handleNotFound } from "./models-route";
import { handleOpenaiChatCompletions } from "./openai/chat-completions-route";
import type { RecordedRequest } from "./recorded-request";
import { Responder, type ResponderSettings, type RespondFunction } from "./responder";
import type { RouteContext } from "./route-context";
import type { ScriptedResponse } from "./scripted-response";

/** Start-up options; every field is optional. */
export interface FakeUpstreamOptions {
  /** Port to listen on; 0 (default) picks a free one. */
  port?: number;
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /**
   * The API key accepted (`x-api-key` or `Authorization: Bearer`), or several (an operator's and
   * organisations' own keys); null accepts any non-empty key. Default `test-key`.
   */
  apiKey?: string | readonly string[] | null;
  /** Fixed reply text for unscripted requests. Default: `Echo: <last user text>` (or `Tool result: <text>` after tool results). */
  text?: string;
  /** Number of deltas each reply is split into. Default: one per word. */
  tokens?: number;
  /** Delay before each delta in milliseconds; 0 (default) writes each response in one go, without timers. */
  tokenDelayMs?: number;
  /** Picks replies for unscripted requests; return undefined for the default. */
  respond?: RespondFunction;
  /** Model ids listed by `GET /v1/models`. */
  models?: readonly string[];
  /** Keep every request in `requests`; turn off for long benchmarks so memory stays flat. Default true. */
  recordRequests?: boolean;
}

/** Runtime-adjustable defaults for unscripted replies. */
export type ReplyDefaults = Partial<Pick<ResponderSettings, "text" | "tokens" | "tokenDelayMs" | "respond">>;

/** A running fake provider. */
export interface FakeUpstream {
  /** `http://127.0.0.1:<port>`: the Anthropic SDK's `baseURL`. */
  readonly url: string;
  /** `<url>/v1`: the `openai` SDK's `baseURL` (it appends `/chat/completions`). */
  readonly openaiBaseUrl: string;
  readonly port: number;
  /** Every request received, oldest first (cleared in place by `reset()`). */
  readonly requests: RecordedRequest[];
  /** TCP connections accepted since start or the last `reset()` (keep-alive reuse shows as fewer connections than requests). */
  readonly connections: number;
  /** TCP connections open right now. */
  readonly openConnections: number;
  /** Scripted responses not yet consumed. */
  readonly pending: number;
  /** Appends replies; each model request consumes the next one. */
  enqueue(...responses: ScriptedResponse[]): void;
  /** Replaces the queue of scripted replies. */
  setScript(responses: readonly ScriptedResponse[]): void;
  /** Changes the defaults for unscripted replies until `reset()`. */
  configure(defaults: ReplyDefaults): void;
  /** Clears recorded requests, the connection count, the queue and magic-token counts, and restores the start-up defaults. */
  reset(): void;
  /** Stops listening and drops open connections, stalled streams included. */
  close(): Promise<void>;
}

type Route = (context: RouteContext) => void;

const routes: Record<string, Route> = {
  "POST /v1/messages": handleAnthropicMessages,
  "POST /v1/messages/count_tokens": handleAnthropicCountTokens,
  "POST /v1/chat/completions": handleOpenaiChatCompletions,
  "GET /v1/models": handleModels,
};

/** Starts a fake Anthropic + OpenAI-compatible model provider on a loopback port. */
export async function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  const responder = new Responder({
    text: options.text,
    tokens: options.tokens,
    tokenDelayMs: options.tokenDelayMs ?? 0,
    respond: options.respond,
  });
  const requests: RecordedRequest[] = [];
  const record = options.recordRequests ?? true;
  const models = options.models ?? ["claude-fake-1", "gpt-fake-1"];
  const apiKey = options.apiKey === undefined ? ["test-key"] : typeof options.apiKey === "string" ? [options.apiKey] : options.apiKey;
  let counter = 0;
  const nextId = (prefix: string): string => `${prefix}${(counter += 1).toString().padStart(6, "0")}`;

  const dispatch = (request: IncomingMessage, response: ServerResponse, bodyBytes: Buffer): void => {
    const url = request.url ?? "/";
    const queryStart = url.indexOf("?");
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const method = request.method ?? "GET";
    const recorded: RecordedRequest = {
      method,
      path,
      query: queryStart === -1 ? "" : url.slice(queryStart + 1),
      headers: request.headers,
      body: parseJson(bodyBytes),
      protocol: protocolOf(path, request.headers),
    };
    if (record) requests.push(recorded);
    const route = routes[`${method} ${path}`] ?? handleNotFound;
    route({ recorded, bodyBytes: bodyBytes.length, response, responder, apiKey, models, nextId });
  };

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("error", () => response.destroy());
    request.on("end", () => {
      try {
        dispatch(request, response, chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks));
      } catch (error) {
        // A bug in the fake must surface in the test that hit it, not hang the client.
        if (response.headersSent) response.destroy();
        else response.writeHead(500, { "content-type": "text/plain" }).end(`fake-upstream crashed: ${String(error)}`);
      }
    });
  });

  let connections = 0;
  let openConnections = 0;
  server.on("connection", (socket) => {
    connections += 1;
    openConnections += 1;
    socket.once("close", () => (openConnections -= 1));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.host ?? "127.0.0.1"}:${port}`;

  return {
    url,
    openaiBaseUrl: `${url}/v1`,
    port,
    requests,
    get connections() {
      return connections;
    },
    get openConnections() {
      return openConnections;
    },
    get pending() {
      return responder.queue.length;
    },
    enqueue: (...responses) => {
      responder.queue.push(...responses);
    },
    setScript: (responses) => {
      responder.queue.splice(0, responder.queue.length, ...responses);
    },
    configure: (defaults) => responder.configure(defaults),
    reset: () => {
      requests.length = 0;
      connections = 0;
      responder.reset();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function protocolOf(path: string, headers: IncomingHttpHeaders): RecordedRequest["protocol"] {
  if (path.startsWith("/v1/messages")) return "anthropic";
  if (path.startsWith("/v1/chat/")) return "openai";
  return headers["anthropic-version"] !== undefined || headers["x-api-key"] !== undefined ? "anthropic" : "openai";
}

function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  try {
    return JSON.parse(bytes.toString("utf8")) as unknown;
  } catch {
    return undefined;
  }
}
