import { RunEvent, SSE_HEARTBEAT, SseParser, type RunEndEvent, type SseMessage } from "@workforce/protocol";
import type { GatewayStream } from "./gateway-client";
import type { StreamStats } from "./stream-stats";

export const HEARTBEAT_MS = 15_000;
/** The gateway sends a heartbeat every 15 s; this long without a byte means it is stuck. */
export const UPSTREAM_IDLE_MS = 45_000;

export interface ProxyOptions {
  upstream: GatewayStream;
  tenantId: string;
  kind: "start" | "resume";
  /** Only the counters the proxy moves. */
  stats: Pick<StreamStats, "open" | "firstToken" | "eventSent">;
  /** When the request arrived, for time-to-first-token. */
  startedAt: number;
  now: () => number;
  heartbeatMs?: number;
  /** Ends the stream when the gateway sends nothing for this long; the client then resumes. */
  upstreamIdleMs?: number;
  /** Called once with the run's end event (also when the browser left before it). `agent` comes from run-start when seen. */
  onRunEnd?: (event: RunEndEvent, agent: string | undefined) => Promise<void>;
}

function encode(message: SseMessage): string {
  const lines = message.id === undefined ? [] : [`id: ${message.id}`];
  lines.push(`event: ${message.event}`);
  for (const line of message.data.split("\n")) lines.push(`data: ${line}`);
  return `${lines.join("\n")}\n\n`;
}

/**
 * Re-emits the gateway's SSE frames to the browser one whole frame at a time, with our own
 * heartbeat in between. If the browser goes away the run goes on in the gateway; we keep
 * reading its stream in the background only to record the run's usage, and the browser can
 * resume with Last-Event-ID.
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
  let agent: string | undefined;
  let ended = false;
  let lastUpstreamAt = options.now();
  const idleMs = options.upstreamIdleMs ?? UPSTREAM_IDLE_MS;

  const finish = () => {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = undefined;
    close();
  };

  /** Parses one chunk; returns the frames to forward. */
  const consume = async (chunk: Uint8Array): Promise<SseMessage[]> => {
    lastUpstreamAt = options.now();
    const messages = parser.push(decoder.decode(chunk, { stream: true }));
    for (const message of messages) {
      if (message.event !== "run-start" && message.event !== "run-end") continue;
      let event: RunEvent | undefined;
      try {
        event = RunEvent.parse(JSON.parse(message.data));
      } catch {
        continue;
      }
      if (event.type === "run-start") agent = event.agent;
      if (event.type === "run-end" && !ended) {
        ended = true;
        await options.onRunEnd?.(event, agent);
      }
    }
    return messages;
  };

  const drain = async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || ended) break;
        await consume(value);
      }
    } catch {
      // nothing more to learn from a broken upstream
    } finally {
      await reader.cancel().catch(() => undefined);
    }
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      heartbeat = setInterval(() => {
        if (options.now() - lastUpstreamAt > idleMs) {
          // A silent gateway (hung, or paused) must not hold the browser forever: ending the
          // stream makes the pending read finish, and the client resumes with Last-Event-ID.
          void reader.cancel().catch(() => undefined);
          return;
        }
        try {
          controller.enqueue(encoder.encode(SSE_HEARTBEAT));
        } catch {
          finish();
        }
      }, Math.min(options.heartbeatMs ?? HEARTBEAT_MS, idleMs));
    },
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          finish();
          controller.close();
          return;
        }
        for (const message of await consume(value)) {
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
    cancel() {
      finish();
      void drain();
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
