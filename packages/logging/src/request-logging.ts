import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import type { LogContext, LogFields } from "./log-context";
import type { Logger } from "./logger";
import { REQUEST_ID_HEADER, requestIdFrom } from "./request-id";

export interface RequestLoggingOptions {
  logger: Logger;
  context: LogContext;
  newId?: () => string;
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
    await options.context.run({ requestId }, async () => {
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
      }
    });
  };
}
