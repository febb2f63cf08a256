import { AppError, type GatewayHealth } from "@workforce/protocol";
import { Hono, type Context } from "hono";
import { dataDirProblem, readDataDirMarker } from "../data-dir-identity";
import type { Database } from "../db/schema";
import { pingDatabase } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";

export interface HealthRoutesDeps {
  db: Database;
  gateway: GatewayClient;
  tenantDataDir: string;
  /** A caller on this machine (not through a proxy) sees the details. */
  isLoopback: (c: Context) => boolean;
  /** So does the installation's operator, by bearer token. */
  isOperator: (c: Context) => Promise<boolean>;
}

export interface HealthReport {
  status: "ok" | "degraded";
  database: { ok: boolean; error?: string };
  gateway: { ok: boolean; url: string; version?: string; error?: string };
  dataDir: { ok: boolean; path: string; instanceId: string | null; gatewayPath?: string; error?: string };
}

const asAppError = (error: unknown) => (error instanceof AppError ? error : new AppError("gateway_unavailable", String(error)));

/**
 * The gateway's health, and proof that it accepts the platform's CLAWDBOT_HOOK_TOKEN: `GET /`
 * answers a caller on the gateway's host without any token, so a platform with none (or with one
 * the gateway does not require) would look healthy while every chat is refused. One authenticated
 * no-op (`POST /v1/usage/pending` for no tenant) settles it.
 */
async function gatewayHealthWithCredentials(gateway: GatewayClient): Promise<GatewayHealth | AppError> {
  try {
    const health = await gateway.health();
    await gateway.usagePending([]);
    return health;
  } catch (error) {
    return asAppError(error);
  }
}

/**
 * Liveness plus readiness: database answers, gateway answers and accepts the platform's token,
 * both see the same data dir; 503
 * when not ready. Strangers learn only the status: paths, URLs and error texts are for the
 * operator (bearer token) or a caller on this machine.
 */
export function healthRoutes(deps: HealthRoutesDeps) {
  const app = new Hono();
  app.get("/", async (c) => {
    const [database, gatewayHealth, marker] = await Promise.all([
      pingDatabase(deps.db)
        .then(() => ({ ok: true }))
        .catch((error: unknown) => ({ ok: false, error: error instanceof Error ? error.message : String(error) })),
      gatewayHealthWithCredentials(deps.gateway),
      readDataDirMarker(deps.tenantDataDir),
    ]);
    const gatewayOk = !(gatewayHealth instanceof AppError);
    const problem = gatewayOk ? dataDirProblem(gatewayHealth, marker, deps.tenantDataDir) : "the gateway is not reachable, so the data dir cannot be compared";
    const ready = database.ok && gatewayOk && problem === undefined;
    const status = ready ? "ok" : "degraded";
    const code = ready ? 200 : 503;
    if (!deps.isLoopback(c) && !(await deps.isOperator(c))) return c.json({ status }, code);
    const report: HealthReport = {
      status,
      database,
      gateway: gatewayOk
        ? { ok: true, url: deps.gateway.baseUrl, version: gatewayHealth.version }
        : { ok: false, url: deps.gateway.baseUrl, error: gatewayHealth.message },
      dataDir: {
        ok: problem === undefined,
        path: deps.tenantDataDir,
        instanceId: marker.ok ? marker.instanceId : null,
        ...(gatewayOk ? { gatewayPath: gatewayHealth.dataDir.path } : {}),
        ...(problem ? { error: problem } : {}),
      },
    };
    return c.json(report, code);
  });
  return app;
}
