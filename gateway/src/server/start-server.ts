import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { getRequestListener, RequestError, type ServerType } from "@hono/node-server";
import { errorBody, type ApiErrorBody } from "@workforce/protocol";
import type { Hono } from "hono";
import type { GatewayEnv } from "./gateway-env";

export interface RunningServer {
  server: ServerType;
  /** The actual address (port 0 resolves to a free port). */
  address: AddressInfo;
  url: string;
  close(): Promise<void>;
}

/**
 * Node's HTTP parser answers requests it cannot parse (oversized or malformed headers, bad
 * framing) with a bare status line before the app sees them; answer with the API's JSON error
 * shape instead, so every error a client gets is `{ error: { code, message } }`.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === "ECONNRESET" || !socket.writable) {
    socket.destroy();
    return;
  }
  // Bytes after a complete request (say, a body the request never announced) parse as the next
  // request and fail here. An answer already begun on this socket is the answer: writing a second
  // would interleave with it, so close once it is finished. A request still waiting for its body
  // (cut short) has no answer yet, and gets the 400 below.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight?.headersSent) {
    if (inFlight.writableFinished) socket.end();
    else inFlight.once("close", () => socket.end());
    return;
  }
  if (!inFlight && (socket as Socket).bytesWritten > 0) {
    socket.end();
    return;
  }
  let answer: [number, string, ApiErrorBody] = [400, "Bad Request", errorBody("validation_failed", "the request is not valid HTTP")];
  if (error.code === "HPE_HEADER_OVERFLOW") answer = [431, "Request Header Fields Too Large", errorBody("payload_too_large", "the request headers are too large")];
  if (error.code === "ERR_HTTP_REQUEST_TIMEOUT") answer = [408, "Request Timeout", errorBody("validation_failed", "the request was not received in time")];
  const [status, reason, body] = answer;
  const text = JSON.stringify(body);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
}

/**
 * The adapter refuses requests it cannot turn into a URL (a backslash in the path, a missing or
 * invalid Host) with an empty 400 before the app runs; answer those in the JSON error shape too.
 */
function answerRequestError(error: unknown): Response {
  const [status, body] =
    error instanceof RequestError
      ? [400, errorBody("validation_failed", `the request cannot be read: ${error.message}`)]
      : [500, errorBody("internal_error", "the gateway hit an unexpected error")];
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Serves the app over HTTP on `host:port`; rejects when the port cannot be bound. */
export function startServer(
  app: Hono<GatewayEnv>,
  port: number,
  host: string,
  onUpgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    // Node's own Host check answers with a bare 400; without it (and without a fallback host name)
    // the adapter refuses a request lacking Host through answerRequestError, in the JSON shape.
    const listener = getRequestListener(app.fetch, { errorHandler: answerRequestError });
    const server: ServerType = createServer({ requireHostHeader: false }, (incoming, outgoing) => void listener(incoming, outgoing));
    server.listen(port, host, () => {
      const info = server.address() as AddressInfo;
      server.off("error", reject);
      resolve({
        server,
        address: info,
        url: `http://${hostForUrl(host === "0.0.0.0" || host === "::" ? host : info.address)}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ("closeAllConnections" in server) server.closeAllConnections();
          }),
      });
    });
    server.once("error", reject);
    server.on("clientError", answerClientError);
    if (onUpgrade) server.on("upgrade", onUpgrade);
  });
}
