import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { urlToHttpOptions } from "node:url";
import type Anthropic from "@anthropic-ai/sdk";
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "@anthropic-ai/sdk";
import { SseParser } from "@workforce/protocol";
import type { ModelRequest, ModelStreamPart } from "../../model-provider";
import { AnthropicReply, messagesBody } from "./anthropic-wire";

/**
 * Anthropic's Messages stream over plain node:http (decision 048): the request goes out in one
 * write on a pooled keep-alive socket, the reply is parsed by our linear SSE parser and each event
 * becomes a ModelStreamPart without the SDK's fetch, web streams and per-event wrappers between.
 *
 * Failures are thrown as the SDK's own error classes, built the way the SDK builds them, so
 * mapAnthropicError turns both paths' failures into the same AppErrors.
 */

/** The API version both paths speak (the SDK sends the same). */
const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Shared by every lean provider, like the global fetch's pool: sockets are kept per host, idle ones
 * closed after `timeout` (undici's default keep-alive is 4 s; a server's `Keep-Alive: timeout=`
 * hint lowers it). No cap on sockets per host: a model stream holds its socket for the whole
 * reply, so a cap would make every run beyond it wait, silently, for another run's reply to end;
 * the run limiter (WORKFORCE_MAX_CONCURRENT_RUNS, up to 10,000) is what bounds them.
 */
const AGENT_OPTIONS = { keepAlive: true, keepAliveMsecs: 1_000, maxSockets: Infinity, maxFreeSockets: 64, timeout: 4_000, scheduling: "lifo" } as const;
let httpAgent: HttpAgent | undefined;
let httpsAgent: HttpsAgent | undefined;

/** Where the SDK would send `POST /v1/messages` for this base URL: appended as is, one slash between. */
export function messagesUrl(baseURL: string): URL {
  return new URL(baseURL + (baseURL.endsWith("/") ? "v1/messages" : "/v1/messages"));
}

export interface LeanMessagesOptions {
  apiKey: string;
  /** The base URL as the SDK resolved it (client.baseURL). */
  baseURL: string;
  timeoutMs: number;
  /** Turns a failure (an SDK error class, as the SDK would throw it) into what the provider throws. */
  mapError: (error: unknown) => unknown;
}

interface Opened {
  request: ClientRequest;
  response: IncomingMessage;
  /** Destroys the request when the caller's signal aborts; removed once the reply is done. */
  abort: () => void;
}

export type LeanMessages = (request: ModelRequest) => AsyncGenerator<ModelStreamPart>;

export function createLeanMessages(options: LeanMessagesOptions): LeanMessages {
  const url = messagesUrl(options.baseURL);
  const secure = url.protocol === "https:";
  const agent = secure ? (httpsAgent ??= new HttpsAgent(AGENT_OPTIONS)) : (httpAgent ??= new HttpAgent(AGENT_OPTIONS));
  const send = secure ? httpsRequest : httpRequest;
  // urlToHttpOptions unbrackets an IPv6 host; a user:password in the base URL is not sent (fetch refuses such URLs).
  const { auth: _ignored, ...where } = urlToHttpOptions(url);
  const target = { ...where, method: "POST", agent };
  const apiKey = options.apiKey;

  const open = (body: string, signal: AbortSignal): Promise<Opened> =>
    new Promise((resolve, reject) => {
      const request = send({
        ...target,
        headers: {
          "x-api-key": apiKey,
          "anthropic-version": ANTHROPIC_VERSION,
          "content-type": "application/json",
          accept: "application/json",
          "content-length": Buffer.byteLength(body),
        },
      });
      let settled = false;
      const timer = setTimeout(() => request.destroy(new APIConnectionTimeoutError()), options.timeoutMs);
      const abort = (): void => {
        request.destroy(new APIUserAbortError());
      };
      signal.addEventListener("abort", abort, { once: true });
      // Stays for the request's life: a destroy after the response arrived must not go unhandled.
      request.on("error", (error) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", abort);
        reject(connectionFailure(error, signal));
      });
      request.once("response", (response) => {
        clearTimeout(timer);
        settled = true;
        resolve({ request, response, abort });
      });
      // A string body and no header sent yet: Node writes headers and body as one string, one write.
      request.end(body);
    });

  return async function* stream(modelRequest) {
    const signal = modelRequest.signal;
    const reply = new AnthropicReply();
    if (signal.aborted) throw options.mapError(new APIUserAbortError());
    let opened: Opened;
    try {
      opened = await open(JSON.stringify(messagesBody(modelRequest)), signal);
    } catch (error) {
      throw options.mapError(error);
    }
    const { request, response, abort } = opened;
    try {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) throw await statusError(status, response);
      response.setEncoding("utf8");
      const parser = new SseParser();
      for await (const chunk of response as AsyncIterable<string>) {
        for (const message of parser.push(chunk)) {
          if (message.event === "ping") continue;
          if (message.event === "error") throw streamError(message.data, response.headers);
          if (message.data === "") continue;
          const part = reply.event(JSON.parse(message.data) as Anthropic.RawMessageStreamEvent);
          if (part) yield part;
        }
      }
    } catch (error) {
      // As the SDK does: an abort ends the stream quietly, with the finish part; the caller knows it aborted.
      if (!signal.aborted) throw options.mapError(error);
    } finally {
      signal.removeEventListener("abort", abort);
      // Not read to the end (error, abort, consumer stopped): the socket cannot be reused.
      if (!response.complete) request.destroy();
    }
    let finish: ModelStreamPart;
    try {
      finish = reply.finish(signal);
    } catch (error) {
      throw options.mapError(error);
    }
    yield finish;
  };
}

function connectionFailure(error: Error, signal: AbortSignal): Error {
  if (error instanceof APIError) return error;
  if (signal.aborted) return new APIUserAbortError();
  return new APIConnectionError({ cause: error });
}

/** The headers as the SDK's errors carry them (a fetch Headers); built only on failure. */
function fetchHeaders(headers: IncomingHttpHeaders): Headers {
  const result = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const item of value) result.append(name, item);
    else if (value !== undefined) result.set(name, value);
  }
  return result;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A non-2xx answer, as the SDK's makeStatusError builds it from the body. */
async function statusError(status: number, response: IncomingMessage): Promise<APIError> {
  response.setEncoding("utf8");
  let text = "";
  try {
    for await (const chunk of response as AsyncIterable<string>) text += chunk;
  } catch (error) {
    text = error instanceof Error ? error.message : String(error);
  }
  const json = safeJson(text);
  return APIError.generate(status, json as object | undefined, json === undefined ? text : undefined, fetchHeaders(response.headers));
}

/** An `event: error` in the stream, as the SDK's Stream builds it. */
function streamError(data: string, headers: IncomingHttpHeaders): APIError {
  const body = (safeJson(data) ?? data) as { error?: { type?: string } } | string;
  const type = typeof body === "object" ? body.error?.type : undefined;
  return new APIError(undefined, body as object, undefined, fetchHeaders(headers), type as never);
}
