import { AppError } from "@workforce/protocol";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import type { AppEnv } from "./app-env";
import type { AccessTokenVerifier } from "./auth/access-token";
import type { AuthService } from "./auth/auth-service";
import { createAuthCache, type AuthCache } from "./auth/auth-cache";
import { authenticate } from "./auth/authenticate";
import { createBudgetGuard } from "./budgets";
import { createSessionOwners } from "./chat/session-owners";
import type { Database, SystemDatabase } from "./db/schema";
import type { GatewayClient } from "./gateway-client";
import { errorResponse, toAppError } from "./http-errors";
import { agentRoutes } from "./routes/agents";
import { apiKeyRoutes } from "./routes/api-keys";
import { auditRoutes } from "./routes/audit-log";
import { budgetRoutes } from "./routes/budget";
import { invitationRoutes } from "./routes/invitations";
import { memberRoutes } from "./routes/members";
import { openApiRoutes } from "./routes/openapi";
import { tenantDataRoutes } from "./routes/tenant-data";
import { tenantRoutes } from "./routes/tenants";
import { usageRoutes } from "./routes/usage";
import { createTenancy } from "./tenancy";
import { authRoutes } from "./routes/auth";
import { chatRoutes } from "./routes/chat";
import { healthRoutes } from "./routes/health";
import { meRoutes } from "./routes/me";
import { publicConfigRoutes } from "./routes/public-config";
import { sessionRoutes } from "./routes/sessions";
import { statsRoutes } from "./routes/stats";
import { createStaticHandler } from "./static";
import type { StreamStats } from "./stream-stats";
import { createUsageRecorder, type UsageRecorder } from "./usage-recorder";

export const MAX_BODY_BYTES = 1024 * 1024;

export interface AppDeps {
  /** Tenant and user transactions: what routes get. */
  db: Database;
  /** The system scope, for the few cross-tenant operations (sign-in by key, organisations). */
  system: SystemDatabase;
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
  /** Batches usage inserts; built here when not given. Flush it before the process exits. */
  usage?: UsageRecorder;
  /** Remembers verified tokens, keys and memberships for a few seconds; built here when not given. */
  authCache?: AuthCache;
}

/**
 * Node's error for a request whose client hung up mid-body (the body limit reads the stream). Its
 * ECONNRESET code would otherwise pass for the database going away: a 503 and a false alarm.
 */
function isClientAbort(error: unknown): boolean {
  return error instanceof Error && error.message === "aborted" && (error as NodeJS.ErrnoException).code === "ECONNRESET";
}
const CLIENT_ABORTED = () => new AppError("validation_failed", "The request was aborted before it was complete");

/** The issuer embedded tokens carry: the public origin (or the request's) + /auth/v1. */
export function issuerFor(publicUrl: string | undefined) {
  return (requestUrl: string) => `${publicUrl ?? new URL(requestUrl).origin}/auth/v1`;
}

/** Builds the platform's HTTP app from its dependencies; starts nothing and reads no environment. */
export function createApp(deps: AppDeps) {
  const app = new Hono();
  const serveStatic = createStaticHandler(deps.webDistDir);

  app.onError((error, c) => errorResponse(c, isClientAbort(error) ? CLIENT_ABORTED() : toAppError(error, deps.logError)));
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
  api.route("/", publicConfigRoutes({ publicUrl: deps.publicUrl, supabase: deps.supabase }));
  api.route("/", openApiRoutes());
  const tenancy = createTenancy(deps.system, deps.now);
  const authCache = deps.authCache ?? createAuthCache({ now: () => deps.now().getTime() });
  const usage = deps.usage ?? createUsageRecorder({ db: deps.db, logError: deps.logError });
  const guard = createBudgetGuard({ db: deps.db, uncommittedTokens: (tenantId) => usage.uncommittedTokens(tenantId) });
  api.use(
    "*",
    authenticate({
      db: deps.db,
      system: deps.system,
      verify: authCache.verifier(deps.verify),
      now: deps.now,
      cache: authCache,
      // Hosted Supabase owns the users; the first API call creates the local records.
      ...(deps.auth ? {} : { provisionUser: (user) => tenancy.provisionUser(user) }),
    }),
  );
  const { db, gateway, now } = deps;
  const owners = createSessionOwners({ db, now });
  api.route("/", meRoutes({ db, gateway }));
  api.route("/", tenantRoutes({ db, tenancy }));
  api.route("/", tenantDataRoutes({ db, gateway, tenancy, now, authCache, guard, usage }));
  api.route("/", memberRoutes({ db, now, authCache }));
  api.route("/", invitationRoutes({ db, tenancy, now, publicUrlFor: (url) => deps.publicUrl ?? new URL(url).origin }));
  api.route("/", apiKeyRoutes({ db, now, authCache }));
  api.route("/", auditRoutes({ db }));
  api.route("/", usageRoutes({ db, now, usage }));
  api.route("/", budgetRoutes({ db, now, guard, usage }));
  api.route("/", agentRoutes({ db, gateway, now }));
  api.route("/", sessionRoutes({ db, gateway, owners }));
  api.route("/", chatRoutes({ budget: guard, usage, gateway, owners, stats: deps.stats, now: () => now().getTime(), clock: now, heartbeatMs: deps.heartbeatMs, logError: deps.logError }));
  api.route("/", statsRoutes({ stats: deps.stats }));
  api.all("*", (c) => {
    throw new AppError("not_found", `No route for ${c.req.method} ${c.req.path}`);
  });
  app.route("/api", api);
  return app;
}

export type PlatformApp = ReturnType<typeof createApp>;
