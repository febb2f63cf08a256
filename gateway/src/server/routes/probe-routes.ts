import { Hono } from "hono";
import type { Readiness } from "../../readiness";
import type { GatewayEnv } from "../gateway-env";

export interface ProbeRoutesDeps {
  readiness: () => Promise<Readiness>;
}

/**
 * Probes for an orchestrator, open without a token (a kubelet has none) and telling nothing
 * about where or what runs. They are separate because they answer different questions:
 * `/livez` whether the process must be restarted, `/readyz` whether it should get new work. A
 * busy gateway is alive but may be unready, and restarting it would abort every run it holds.
 */
export function probeRoutes(deps: ProbeRoutesDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  // No I/O and no state: if this answers, the process and its event loop are alive.
  app.get("/livez", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const readiness = await deps.readiness();
    return c.json({ status: readiness.ready ? "ready" : "not_ready", checks: readiness.checks }, readiness.ready ? 200 : 503);
  });
  return app;
}
