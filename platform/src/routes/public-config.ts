import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { embeddedPublishableKey } from "../auth/publishable-key";
import type { SignupMode, SignupPolicy } from "../auth/signup-policy";

export interface PublicConfigDeps {
  publicUrl: string;
  supabase: { url: string; anonKey: string | undefined } | undefined;
  signup: SignupPolicy;
  /** Whether the installation has any account yet (the first may always sign up: it becomes the operator). */
  hasAccounts: () => Promise<boolean>;
}

export interface PublicConfig {
  supabaseUrl: string;
  /** The key supabase-js takes: SUPABASE_ANON_KEY for hosted Supabase ("" when unset), else the embedded auth's publishable key. */
  supabaseAnonKey: string;
  embeddedAuth: boolean;
  /** Who may create an account (WORKFORCE_SIGNUP): the sign-in screen offers sign-up only when it can work. */
  signup: SignupMode;
  /** True while the installation has no account: whoever signs up now becomes its operator, whatever the policy. */
  firstAccount: boolean;
}

/** `GET /api/config`: where the web app's supabase-js client should point, so one build runs anywhere. */
export function publicConfigRoutes(deps: PublicConfigDeps) {
  const app = new Hono<AppEnv>();
  // Once an account exists it always will: stop asking.
  let hadAccounts = false;
  const publishableKey = embeddedPublishableKey(deps.publicUrl);
  operationRoutes(app)("service.config", async (c) => {
    hadAccounts ||= await deps.hasAccounts();
    const common = { signup: deps.signup.mode, firstAccount: !hadAccounts };
    const config: PublicConfig = deps.supabase
      ? { supabaseUrl: deps.supabase.url, supabaseAnonKey: deps.supabase.anonKey ?? "", embeddedAuth: false, ...common }
      : { supabaseUrl: deps.publicUrl, supabaseAnonKey: publishableKey, embeddedAuth: true, ...common };
    return c.json(config);
  });
  return app;
}
