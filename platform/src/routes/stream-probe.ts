import { Hono } from "hono";

/** How long the probe holds its second event back: a buffering proxy delivers the first one only then. */
export const STREAM_PROBE_GAP_MS = 1_000;

/**
 * `GET /api/health/stream-probe`: two server-sent events a second apart, with the headers the
 * chat streams carry. `workforce doctor` reads it through PUBLIC_URL: when the first event only
 * arrives with the second, a proxy on the way buffers event streams (the guide's "SSE
 * disconnects"), which no amount of client code fixes. Public, like health: it says nothing and
 * holds a connection for one second.
 */
export function streamProbeRoutes(gapMs = STREAM_PROBE_GAP_MS) {
  const app = new Hono();
  app.get("/", () => {
    const encoder = new TextEncoder();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode("event: probe\ndata: first\n\n"));
        timer = setTimeout(() => {
          controller.enqueue(encoder.encode("event: probe\ndata: last\n\n"));
          controller.close();
        }, gapMs);
      },
      cancel() {
        clearTimeout(timer);
      },
    });
    return new Response(body, {
      status: 200,
      headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" },
    });
  });
  return app;
}
