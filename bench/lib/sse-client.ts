/**
 * A lean streaming client for the bench: node:http with a keep-alive agent (no fetch/undici
 * overhead on the measuring side), timing the first token and the end of a streamed reply, and
 * parsing only the frames it must (run-start, run-end) so the client stays cheap at 10,000 streams.
 */
import http from "node:http";

export const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256 });

export interface StreamRequest {
  url: string;
  method?: string;
  headers: Record<string, string>;
  body?: unknown;
  /** SSE event name that carries a token: "text-delta" (gateway, platform) or "content_block_delta" (Anthropic). */
  tokenEvent: string;
  /** Called once the response headers arrived (the stream is open), with the X-Run-Id header. */
  onOpen?: (runId: string | undefined) => void;
  /** Called on every token frame with the number of tokens so far (1 for the first). */
  onToken?: (count: number) => void;
  /** Abort the request after this many ms (default none). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface StreamResult {
  status: number;
  /** ms from sending the request to the first token frame. */
  ttftMs: number | undefined;
  /** ms from sending the request to the end of the response. */
  totalMs: number;
  tokens: number;
  runId: string | undefined;
  sessionKey: string | undefined;
  /** The run-end frame's status and error code (gateway and platform streams). */
  end: { status: string; code: string | undefined } | undefined;
  /** Transport failure or a non-2xx answer, with the body. */
  error: string | undefined;
  /** The JSON error code of a non-2xx answer. */
  errorCode: string | undefined;
  text: string;
}

/** Sends one request and reads the SSE answer to its end. Never rejects: failures are in `error`. */
export function stream(request: StreamRequest): Promise<StreamResult> {
  return new Promise((resolve) => {
    const started = performance.now();
    const result: StreamResult = {
      status: 0,
      ttftMs: undefined,
      totalMs: 0,
      tokens: 0,
      runId: undefined,
      sessionKey: undefined,
      end: undefined,
      error: undefined,
      errorCode: undefined,
      text: "",
    };
    let settled = false;
    const finish = (error?: string) => {
      if (settled) return;
      settled = true;
      result.totalMs = performance.now() - started;
      if (error && !result.error) result.error = error;
      resolve(result);
    };
    const payload = request.body === undefined ? undefined : JSON.stringify(request.body);
    const req = http.request(request.url, {
      method: request.method ?? "POST",
      agent,
      headers: {
        accept: "text/event-stream",
        ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": String(Buffer.byteLength(payload)) }),
        ...request.headers,
      },
      ...(request.signal ? { signal: request.signal } : {}),
    });
    if (request.timeoutMs) req.setTimeout(request.timeoutMs, () => req.destroy(new Error(`no answer within ${request.timeoutMs} ms`)));
    req.on("error", (error) => finish(error.message));
    req.on("response", (response) => {
      result.status = response.statusCode ?? 0;
      result.runId = (response.headers["x-run-id"] as string | undefined) ?? undefined;
      response.setEncoding("utf8");
      if (result.status < 200 || result.status >= 300) {
        let body = "";
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => {
          try {
            result.errorCode = (JSON.parse(body) as { error?: { code?: string } }).error?.code;
          } catch {
            // not JSON
          }
          finish(`HTTP ${result.status}: ${body.slice(0, 300)}`);
        });
        response.on("error", (error) => finish(error.message));
        return;
      }
      request.onOpen?.(result.runId);
      let buffer = "";
      response.on("data", (chunk: string) => {
        buffer += chunk;
        let boundary = buffer.indexOf("\n\n");
        while (boundary !== -1) {
          frame(buffer.slice(0, boundary));
          buffer = buffer.slice(boundary + 2);
          boundary = buffer.indexOf("\n\n");
        }
      });
      response.on("end", () => finish());
      response.on("error", (error) => finish(error.message));
      response.on("close", () => finish(response.complete ? undefined : "the stream was cut before its end"));
    });
    const frame = (block: string) => {
      if (block.startsWith(":")) return;
      const eventStart = block.indexOf("event: ");
      if (eventStart === -1) return;
      const eventEnd = block.indexOf("\n", eventStart);
      const event = block.slice(eventStart + 7, eventEnd === -1 ? undefined : eventEnd);
      if (event === request.tokenEvent) {
        if (result.tokens === 0) result.ttftMs = performance.now() - started;
        result.tokens += 1;
        request.onToken?.(result.tokens);
        const data = dataOf(block);
        const delta = /"(?:delta|text)":"((?:[^"\\]|\\.)*)"/.exec(data);
        if (delta?.[1] !== undefined) result.text += delta[1].includes("\\") ? (JSON.parse(`"${delta[1]}"`) as string) : delta[1];
      } else if (event === "run-start") {
        const parsed = JSON.parse(dataOf(block)) as { sessionKey?: string; runId?: string };
        result.sessionKey = parsed.sessionKey;
        result.runId ??= parsed.runId;
      } else if (event === "run-end") {
        const parsed = JSON.parse(dataOf(block)) as { status: string; error?: { code?: string } };
        result.end = { status: parsed.status, code: parsed.error?.code };
      }
    };
    req.end(payload);
  });
}

function dataOf(block: string): string {
  const start = block.indexOf("data: ");
  if (start === -1) return "";
  const end = block.indexOf("\n", start);
  return block.slice(start + 6, end === -1 ? undefined : end);
}

/** Plain JSON request over the same agent. */
export async function jsonRequest<T = any>(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = text;
  }
  return { status: response.status, body: parsed as T };
}
