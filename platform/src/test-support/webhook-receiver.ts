import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";

/** One POST the receiver got. */
export interface ReceivedWebhook {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as sent (what the signature covers). */
  body: string;
  /** The platform's (fake) time when it arrived. */
  at: Date;
}

/** What the receiver answers: a status, and optionally headers and a body. */
export interface ReceiverAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:{port}`. */
  origin: string;
  /** `127.0.0.1:{port}`, for WORKFORCE_OUTBOUND_ALLOW_HOSTS. */
  host: string;
  received: ReceivedWebhook[];
  /** Decides each answer (default 200 "ok"). */
  answer: (request: ReceivedWebhook) => ReceiverAnswer;
  close(): Promise<void>;
}

/** A real HTTP server on a free loopback port that records every request and answers as the test says. */
export async function startWebhookReceiver(options: { now?: () => Date } = {}): Promise<WebhookReceiver> {
  const now = options.now ?? (() => new Date());
  const receiver: Omit<WebhookReceiver, "origin" | "host" | "close"> = { received: [], answer: () => ({ status: 200, body: "ok" }) };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const got: ReceivedWebhook = { path: request.url ?? "/", headers: request.headers, body: Buffer.concat(chunks).toString("utf8"), at: now() };
      receiver.received.push(got);
      const answer = receiver.answer(got);
      response.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers });
      response.end(answer.body ?? "");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    origin: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
