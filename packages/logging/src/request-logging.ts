import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import type { LogContext, LogFields } from "./log-context";
import type { Logger } from "./logger";
import { REQUEST_ID_HEADER, requestIdFrom } from "./request-id";
import { parseTraceparent, TRACEPARENT_HEADER, type Tracer } from "./tracing/trace-context";

export interface RequestLoggingOptions {
  logger: Logger;
  context: LogContext;
  newId?: () => string;
  /** When tracing is on: one server span per request, child of the caller's `traceparent`. */
  tracer?: Tracer | undefined;
}

/**
 * The route a request was served by, as registered (`/v1/agents/:agent/sessions`): bounded, and
 * free of ids and of the query string, which may carry tokens. The first handler registered for a
 * method answers in Hono; without one (a 404 through a catch-all) the last route matched.
 */
export function routeTemplate(c: Context): string {
  const handler = matchedRoutes(c).find((route) => route.method !== "ALL");
  return handler?.path ?? routePath(c, -1);
}

function setRequestId(c: Context, requestId: string): void {
  if (c.res.headers.get(REQUEST_ID_HEADER) === requestId) return;
  try {
    c.res.headers.set(REQUEST_ID_HEADER, requestId);
  } catch {
    // A response passed through from fetch() has immutable headers: copy it.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set(REQUEST_ID_HEADER, requestId);
  }
}

/**
 * First middleware of a service: gives the request its id (the caller's X-Request-Id when safe,
 * a new one otherwise), returns it in the response, makes every line logged while serving it carry
 * it (and the tenant, user, run once known), and writes one access-log line when it is answered.
 * `durationMs` is the time to the response's headers: a stream goes on after it.
 */
export function requestLogging(options: RequestLoggingOptions): MiddlewareHandler {
  return async (c, next) => {
    const requestId = requestIdFrom(c.req.header(REQUEST_ID_HEADER), options.newId);
    const started = performance.now();
    const span = options.tracer?.startSpan(c.req.method, { kind: "server", parent: parseTraceparent(c.req.header(TRACEPARENT_HEADER)) });
    // The span's ids go into the context: every log line names its trace, and calls onward carry it.
    const trace = span ? { traceId: span.context.traceId, spanId: span.context.spanId } : {};
    await options.context.run({ requestId, ...trace }, async () => {
      try {
        await next();
      } finally {
        setRequestId(c, requestId);
        const fields: LogFields = {
          method: c.req.method,
          route: routeTemplate(c),
          status: c.res.status,
          durationMs: Math.round((performance.now() - started) * 10) / 10,
        };
        options.logger.info("request", fields);
        if (span) {
          // Only the method, the route template and the status: never headers, bodies or the query.
          span.name = `${c.req.method} ${String(fields.route)}`;
          span.setAttributes({
            "http.request.method": c.req.method,
            "http.route": String(fields.route),
            "http.response.status_code": c.res.status,
            "workforce.request_id": requestId,
            "workforce.tenant_id": stringField(options.context.current()?.tenantId),
          });
          span.end(c.res.status >= 500 ? String(c.res.status) : undefined);
        }
      }
    });
  };
}

function stringField(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
