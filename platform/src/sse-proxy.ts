import { SSE_HEARTBEAT, SseParser, type SseMessage } from "@workforce/protocol";
import type { GatewayStream } from "./gateway-client";
import type { StreamStats } from "./stream-stats";

export const HEARTBEAT_MS = 15_000;

export interface ProxyOptions {
  upstream: GatewayStream;
  tenantId: string;
  kind: "start" | "resume";
  stats: StreamStats;
  /** When the request arrived, for time-to-first-token. */
  startedAt: number;
  now: () => number;
  heartbeatMs?: number;
}

function encode(message: SseMessage): string {
  const lines = message.id === undefined ? [] : [`id: ${message.id}`];
  lines.push(`event: ${message.event}`);
  for (const line of message.data.split("\n")) lines.push(`data: ${line}`);
  return `${lines.join("\n")}\n\n`;
}

/**
 * Re-emits the gateway's SSE frames to the browser one whole frame at a time, with our own
 * heartbeat in between. If the browser goes away, only the upstream connection is dropped: the
 * gateway keeps the run going and the browser can resume with Last-Event-ID.
 */
export function proxySse(options: ProxyOptions): Response {
  const { upstream, stats } = options;
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  const reader = upstream.body.getReader();
  const close = stats.open(options.tenantId, options.kind);
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let sawFirstToken = options.kind === "resume";

  const finish = () => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
    close();
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      heartbeat = setInterval(() => {
        try {
          controller.enqueue(encoder.encode(SSE_HEARTBEAT));
        } catch {
          finish();
        }
      }, options.heartbeatMs ?? HEARTBEAT_MS);
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
          return;
        }
        for (const message of parser.push(decoder.decode(value, { stream: true }))) {
          if (!sawFirstToken && message.event === "text-delta") {
            sawFirstToken = true;
            stats.firstToken(options.now() - options.startedAt);
          }
          stats.eventSent();
          controller.enqueue(encoder.encode(encode(message)));
        }
      } catch {
        // The gateway connection broke mid-run; the client resumes with Last-Event-ID.
        finish();
        controller.close();
      }
    },
    async cancel() {
      finish();
      await reader.cancel().catch(() => undefined);
    },
  });

  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      ...(upstream.runId ? { "x-run-id": upstream.runId } : {}),
    },
  });
}
