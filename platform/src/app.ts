import { AppError } from "@workforce/protocol";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { AppEnv } from "./app-env";
import type { AccessTokenVerifier } from "./auth/access-token";
import type { AuthService } from "./auth/auth-service";
import { requireTenant, requireUser } from "./auth/require-user";
import type { Database } from "./db/schema";
import type { GatewayClient } from "./gateway-client";
import { errorResponse, toAppError } from "./http-errors";
import { agentRoutes } from "./routes/agents";
import { authRoutes } from "./routes/auth";
import { chatRoutes } from "./routes/chat";
import { healthRoutes } from "./routes/health";
import { meRoutes } from "./routes/me";
import { publicConfigRoutes } from "./routes/public-config";
import { sessionRoutes } from "./routes/sessions";
import { statsRoutes } from "./routes/stats";
import { createStaticHandler } from "./static";
import type { StreamStats } from "./stream-stats";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface AppDeps {
  db: Database;
  gateway: GatewayClient;
  /** The embedded GoTrue-compatible auth; undefined when hosted Supabase issues the tokens. */
  auth: AuthService | undefined;
  verify: AccessTokenVerifier;
  stats: StreamStats;
  now: () => Date;
  publicUrl: string | undefined;
  supabase: { url: string; anonKey: string | undefined } | undefined;
  tenantDataDir: string;
  webDistDir: string;
  /** Where unexpected errors are reported (stderr in production). */
  logError: (message: string, error: unknown) => void;
  /** SSE heartbeat interval (15 s). */
  heartbeatMs?: number;
}

/** The issuer embedded tokens carry: the public origin (or the request's) + /auth/v1. */
export function issuerFor(publicUrl: string | undefined) {
  return (requestUrl: string) => `${publicUrl ?? new URL(requestUrl).origin}/auth/v1`;
}

/** Builds the platform's HTTP app from its dependencies; starts nothing and reads no environment. */
export function createApp(deps: AppDeps) {
  const app = new Hono();
  const serveStatic = createStaticHandler(deps.webDistDir);

  app.onError((error, c) => errorResponse(c, toAppError(error, deps.logError)));
  app.notFound(async (c) => {
    if (!c.req.path.startsWith("/api/") && !c.req.path.startsWith("/auth/")) {
      const page = await serveStatic(c);
      if (page) return page;
    }
    return errorResponse(c, new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`));
  });

  const limit = bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: () => {
      throw new AppError("payload_too_large", `Request bodies are limited to ${MAX_BODY_BYTES} bytes`);
    },
  });
  const corsPolicy = cors({
    origin: "*",
    allowHeaders: ["authorization", "content-type", "apikey", "x-client-info", "x-tenant-id", "last-event-id", "x-supabase-api-version"],
    exposeHeaders: ["x-run-id", "retry-after", "x-supabase-api-version"],
  });
  app.use("/api/*", corsPolicy, limit);
  app.use("/auth/*", corsPolicy, limit);

  if (deps.auth) {
    app.route("/auth/v1", authRoutes({ auth: deps.auth, verify: deps.verify, issuerFor: issuerFor(deps.publicUrl) }));
  }

  const api = new Hono<AppEnv>();
  api.route("/health", healthRoutes({ db: deps.db, gateway: deps.gateway, tenantDataDir: deps.tenantDataDir }));
  api.route("/config", publicConfigRoutes({ publicUrl: deps.publicUrl, supabase: deps.supabase }));
  api.use("*", requireUser(deps.verify), requireTenant(deps.db));
  api.route("/me", meRoutes({ db: deps.db, gateway: deps.gateway }));
  api.route("/agents", agentRoutes({ db: deps.db, gateway: deps.gateway, now: deps.now }));
  api.route("/agents", sessionRoutes({ gateway: deps.gateway }));
  api.route("/", chatRoutes({ gateway: deps.gateway, stats: deps.stats, now: () => deps.now().getTime(), heartbeatMs: deps.heartbeatMs }));
  api.route("/stream/stats", statsRoutes({ stats: deps.stats }));
  api.all("*", (c) => {
    throw new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  });
  app.route("/api", api);
  return app;
}

export type PlatformApp = ReturnType<typeof createApp>;
