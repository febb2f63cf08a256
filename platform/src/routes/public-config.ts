import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import type { SignupMode, SignupPolicy } from "../auth/signup-policy";

export interface PublicConfigDeps {
  publicUrl: string;
  supabase: { url: string; anonKey: string | undefined } | undefined;
  signup: SignupPolicy;
}

export interface PublicConfig {
  supabaseUrl: string;
  supabaseAnonKey: string;
  embeddedAuth: boolean;
  /** Who may create an account (WORKFORCE_SIGNUP): the sign-in screen offers sign-up only when it can work. */
  signup: SignupMode;
}

/** `GET /api/config`: where the web app's supabase-js client should point, so one build runs anywhere. */
export function publicConfigRoutes(deps: PublicConfigDeps) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("service.config", (c) => {
    const config: PublicConfig = deps.supabase
      ? { supabaseUrl: deps.supabase.url, supabaseAnonKey: deps.supabase.anonKey ?? "", embeddedAuth: false, signup: deps.signup.mode }
      : { supabaseUrl: deps.publicUrl, supabaseAnonKey: "embedded", embeddedAuth: true, signup: deps.signup.mode };
    return c.json(config);
  });
  return app;
}
