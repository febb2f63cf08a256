import { AppError } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AccessTokenVerifier } from "../auth/access-token";
import type { AuthService } from "../auth/auth-service";
import { bearerToken } from "../auth/authenticate";
import { parseWith, readJson } from "../validation";

export const SignUpBody = z.object({
  email: z.string({ message: "is required" }).trim().toLowerCase().pipe(z.email({ message: "must be a valid email address" })),
  password: z.string({ message: "is required" }),
});
export const PasswordGrantBody = z.object({
  email: z.string({ message: "is required" }).trim().min(1, "is required"),
  password: z.string({ message: "is required" }),
});
export const RefreshGrantBody = z.object({ refresh_token: z.string({ message: "is required" }).min(1, "is required") });
const GrantType = z.enum(["password", "refresh_token"], { message: "must be 'password' or 'refresh_token'" });
const SignOutScope = z.enum(["global", "local", "others"], { message: "must be 'global', 'local' or 'others'" }).default("global");

export interface AuthRoutesDeps {
  auth: AuthService;
  verify: AccessTokenVerifier;
  /** The token issuer for a request: `<public origin>/auth/v1`. */
  issuerFor: (requestUrl: string) => string;
}

/** The GoTrue-compatible subset @supabase/supabase-js needs, mounted at /auth/v1. */
export function authRoutes(deps: AuthRoutesDeps) {
  const app = new Hono();

  app.post("/signup", async (c) => {
    const body = await readJson(c, SignUpBody);
    return c.json(await deps.auth.signUp(body, deps.issuerFor(c.req.url)));
  });

  app.post("/token", async (c) => {
    const grant = parseWith(GrantType, c.req.query("grant_type"), "grant_type");
    const issuer = deps.issuerFor(c.req.url);
    if (grant === "password") return c.json(await deps.auth.signInWithPassword(await readJson(c, PasswordGrantBody), issuer));
    const body = await readJson(c, RefreshGrantBody);
    return c.json(await deps.auth.refresh(body.refresh_token, issuer));
  });

  app.get("/user", async (c) => {
    const user = await deps.verify(bearerToken(c.req.header("authorization")));
    return c.json(await deps.auth.getUser(user.id, user.sessionId));
  });

  app.post("/logout", async (c) => {
    const scope = parseWith(SignOutScope, c.req.query("scope"), "scope");
    const user = await deps.verify(bearerToken(c.req.header("authorization")));
    await deps.auth.signOut(user.id, user.sessionId, scope);
    return c.body(null, 204);
  });

  app.get("/health", (c) => c.json({ name: "GoTrue", version: "workforce-embedded", description: "Workforce embedded auth" }));
  app.get("/settings", (c) =>
    c.json({ external: { email: true }, disable_signup: false, mailer_autoconfirm: true, phone_autoconfirm: false, sms_provider: "" }),
  );

  app.all("*", () => {
    throw new AppError("not_found", "This auth endpoint is not available in embedded mode");
  });
  return app;
}
