import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";

export interface PublicConfigDeps {
  publicUrl: string | undefined;
  supabase: { url: string; anonKey: string | undefined } | undefined;
}

/** `GET /api/config`: where the web app's supabase-js client should point, so one build runs anywhere. */
export function publicConfigRoutes(deps: PublicConfigDeps) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("service.config", (c) => {
    if (deps.supabase) {
      return c.json({ supabaseUrl: deps.supabase.url, supabaseAnonKey: deps.supabase.anonKey ?? "", embeddedAuth: false });
    }
    return c.json({ supabaseUrl: deps.publicUrl ?? new URL(c.req.url).origin, supabaseAnonKey: "embedded", embeddedAuth: true });
  });
  return app;
}
