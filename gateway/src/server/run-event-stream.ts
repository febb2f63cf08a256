import { encodeSseEvent, SSE_HEARTBEAT, type RunEvent } from "@workforce/protocol";
import type { RunEventSource } from "../runs/run-relay";

/**
 * Each event's SSE frame, encoded once however many clients follow the run (a replay after a
 * reconnect, a second tab, the platform's proxy and a watcher): the log hands every follower the
 * same event object, and the frame lives as long as the log keeps that object.
 */
const frames = new WeakMap<RunEvent, string>();

function frameOf(event: RunEvent): string {
  let frame = frames.get(event);
  if (frame === undefined) {
    frame = encodeSseEvent(event);
    frames.set(event, frame);
  }
  return frame;
}

export interface RunEventStreamOptions {
  heartbeatMs: number;
  headers?: Record<string, string>;
}

/**
 * An SSE response with the run's events after `after`, following live until run-end. The client
 * going away only stops this stream; the run itself continues.
 */
export function runEventStream(log: RunEventSource, after: number, options: RunEventStreamOptions): Response {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  let heartbeat: NodeJS.Timeout | undefined;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      // Frames produced in one turn of the event loop (a burst of deltas parsed from one upstream
      // chunk) go out as one chunk: one socket write instead of one per frame.
      let pending = "";
      let flushing: NodeJS.Immediate | undefined;
      const flush = () => {
        flushing = undefined;
        if (pending && !stop.signal.aborted) controller.enqueue(encoder.encode(pending));
        pending = "";
      };
      const send = (text: string) => {
        if (stop.signal.aborted) return;
        pending += text;
        flushing ??= setImmediate(flush);
      };
      heartbeat = setInterval(() => send(SSE_HEARTBEAT), options.heartbeatMs);
      heartbeat.unref();
      void (async () => {
        try {
          for await (const event of log.follow(after, stop.signal)) send(frameOf(event));
        } finally {
          clearInterval(heartbeat);
          if (flushing) clearImmediate(flushing);
          flush();
          if (!stop.signal.aborted) {
            stop.abort();
            controller.close();
          }
        }
      })();
    },
    cancel() {
      clearInterval(heartbeat);
      stop.abort();
    },
  });
  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      ...options.headers,
    },
  });
}
