import { serve, type ServerType } from "@hono/node-server";
import { AppError, errorBody } from "@workforce/protocol";
import { Hono } from "hono";
import type { Registry } from "prom-client";
import { answerScrape, type MetricsAccess } from "./metrics-access";

export interface MetricsServer {
  /** The address it listens on, e.g. http://127.0.0.1:9464. */
  url: string;
  close(): Promise<void>;
}

/**
 * The METRICS_PORT listener: `/metrics` and nothing else, on METRICS_BIND, so Prometheus can
 * scrape a port that is never exposed to users (a NetworkPolicy or firewall keeps it private).
 */
export function startMetricsServer(registry: Registry, access: MetricsAccess & { port: number }): Promise<MetricsServer> {
  const app = new Hono();
  app.onError((error, c) => {
    if (error instanceof AppError) return c.json(error.toBody(), error.status as 401);
    return c.json(errorBody("internal_error", "the metrics could not be collected"), 500);
  });
  app.notFound((c) => c.json(errorBody("not_found", `this port serves only GET /metrics`), 404));
  app.get("/metrics", (c) => answerScrape(c, registry, access, true));
  return new Promise((resolve, reject) => {
    const server: ServerType = serve({ fetch: app.fetch, port: access.port, hostname: access.bind }, (info) => {
      server.off("error", reject);
      const host = access.bind.includes(":") ? `[${access.bind}]` : access.bind;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ("closeAllConnections" in server) server.closeAllConnections();
          }),
      });
    });
    server.once("error", reject);
  });
}
