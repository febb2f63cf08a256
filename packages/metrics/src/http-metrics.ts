import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

/** Request latency buckets (seconds): API calls are milliseconds, a slow gateway answers in seconds. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The route a request matched, as registered (`/v1/agents/:slug`), never the raw path: label
 * values come only from the app's own route table, so their number is bounded whatever clients send.
 */
function routeOf(c: Context): string {
  return routePath(c) || "unmatched";
}

/**
 * Calls `onClose` once when the stream ends, errors or its reader cancels it (the client went
 * away); the cancel reaches the source, so the producer still learns of the disconnect.
 */
function watchClose(body: ReadableStream<Uint8Array>, onClose: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let open = true;
  const close = () => {
    if (!open) return;
    open = false;
    onClose();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          close();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        close();
        controller.error(error);
      }
    },
    async cancel(reason) {
      close();
      await reader.cancel(reason);
    },
  });
}

/**
 * Hono middleware counting requests by method, route template and status, timing them until the
 * response starts, and keeping a gauge of the server-sent-event streams open right now. Mount it
 * first (`app.use("*", …)`) so it sees every request, errors and 404s included.
 */
export function httpMetrics(registry: Registry): MiddlewareHandler {
  const requests = new Counter({
    name: "workforce_http_requests_total",
    help: "HTTP requests answered, by method, route template and status code",
    labelNames: ["method", "route", "status"] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "workforce_http_request_duration_seconds",
    help: "Time until the response started (for streams: until the stream opened), by method, route template and status code",
    labelNames: ["method", "route", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const streams = new Gauge({
    name: "workforce_sse_streams_open",
    help: "Server-sent-event streams open right now, by route template",
    labelNames: ["route"] as const,
    registers: [registry],
  });
  return async (c, next) => {
    const started = performance.now();
    await next();
    const method = KNOWN_METHODS.has(c.req.method) ? c.req.method : "OTHER";
    const route = routeOf(c);
    const labels = { method, route, status: String(c.res.status) };
    requests.inc(labels);
    duration.observe(labels, (performance.now() - started) / 1000);
    if (!c.res.headers.get("content-type")?.startsWith("text/event-stream")) return;
    // Headers and status first: reading `body` of @hono/node-server's lightweight Response rebuilds
    // it from its original init, dropping headers set since (a later middleware's X-Request-Id).
    const headers = new Headers(c.res.headers);
    const status = c.res.status;
    const body = c.res.body;
    if (!body) return;
    streams.inc({ route });
    c.res = new Response(
      watchClose(body, () => streams.dec({ route })),
      { status, headers },
    );
  };
}
