import { AppError } from "@workforce/protocol";
import { Hono, type Context } from "hono";
import { z } from "zod";
import type { AccessTokenVerifier } from "../auth/access-token";
import type { AuthService, EmailConfirmation } from "../auth/auth-service";
import { bearerToken } from "../auth/authenticate";
import type { SignupPolicy } from "../auth/signup-policy";
import { parseWith, readJson } from "../validation";

const Email = z.string({ message: "is required" }).trim().toLowerCase().max(320).pipe(z.email({ message: "must be a valid email address" }));
const Password = z.string({ message: "is required" });

export const SignUpBody = z.object({
  email: Email,
  password: Password,
  /** supabase-js `options.data`; an invitation link passes `invitation_token` here. */
  data: z.object({ invitation_token: z.string().min(1).max(200).optional() }).loose().optional(),
});
export const PasswordGrantBody = z.object({
  email: z.string({ message: "is required" }).trim().min(1, "is required").max(320),
  password: Password,
});
export const RefreshGrantBody = z.object({ refresh_token: z.string({ message: "is required" }).min(1, "is required").max(200) });
export const UserUpdateBody = z
  .object({
    email: Email.optional(),
    password: z.string().optional(),
    nonce: z.string().max(20).optional(),
    data: z.record(z.string(), z.unknown()).optional(),
  })
  .loose();
export const EmailBody = z.object({ email: Email });
export const ResendBody = z.object({ type: z.enum(["signup", "email_change"], { message: "must be 'signup' or 'email_change'" }), email: Email });
const VerifyType = z.enum(["signup", "email", "recovery", "email_change"], { message: "must be 'signup', 'email', 'recovery' or 'email_change'" });
export const VerifyBody = z.union([
  z.object({ type: VerifyType, token_hash: z.string().min(1, "is required").max(200) }),
  z.object({ type: VerifyType, email: Email, token: z.string().trim().regex(/^\d{6}$/, "must be the 6-digit code from the email") }),
]);
const GrantType = z.enum(["password", "refresh_token"], { message: "must be 'password' or 'refresh_token'" });
const SignOutScope = z.enum(["global", "local", "others"], { message: "must be 'global', 'local' or 'others'" }).default("global");

export interface AuthRoutesDeps {
  auth: AuthService;
  verify: AccessTokenVerifier;
  signup: SignupPolicy;
  confirmation: EmailConfirmation;
  /** The caller's address, for rate limits (behind WORKFORCE_TRUST_PROXY hops). */
  clientAddress: (c: Context) => string;
}

/** The GoTrue-compatible subset @supabase/supabase-js needs, mounted at /auth/v1. */
export function authRoutes(deps: AuthRoutesDeps) {
  const app = new Hono();
  const context = (c: Context) => ({ address: deps.clientAddress(c) });
  const signedIn = (c: Context) => deps.verify(bearerToken(c.req.header("authorization")));

  app.post("/signup", async (c) => c.json(await deps.auth.signUp(await readJson(c, SignUpBody), context(c))));

  app.post("/token", async (c) => {
    const grant = parseWith(GrantType, c.req.query("grant_type"), "grant_type");
    if (grant === "password") return c.json(await deps.auth.signInWithPassword(await readJson(c, PasswordGrantBody), context(c)));
    const body = await readJson(c, RefreshGrantBody);
    return c.json(await deps.auth.refresh(body.refresh_token));
  });

  app.post("/verify", async (c) => c.json(await deps.auth.verify(await readJson(c, VerifyBody), context(c))));

  app.post("/recover", async (c) => {
    await deps.auth.recover((await readJson(c, EmailBody)).email, context(c));
    return c.json({});
  });

  app.post("/resend", async (c) => {
    const body = await readJson(c, ResendBody);
    await deps.auth.resend(body.type, body.email, context(c));
    return c.json({});
  });

  app.get("/user", async (c) => {
    const user = await signedIn(c);
    return c.json(await deps.auth.getUser(user.id, user.sessionId));
  });

  app.put("/user", async (c) => {
    const user = await signedIn(c);
    const body = await readJson(c, UserUpdateBody);
    if (user.sessionId && !(await deps.auth.isSessionActive(user.id, user.sessionId))) {
      throw new AppError("session_not_found", "This session was signed out; sign in again", { status: 403 });
    }
    return c.json(await deps.auth.updateUser(user.id, user.sessionId, body));
  });

  app.get("/reauthenticate", async (c) => {
    const user = await signedIn(c);
    await deps.auth.reauthenticate(user.id, context(c));
    return c.json({});
  });

  app.post("/logout", async (c) => {
    const scope = parseWith(SignOutScope, c.req.query("scope"), "scope");
    // A session that already ended signs out all the same (GoTrue answers 204 too).
    const user = await signedIn(c);
    await deps.auth.signOut(user.id, user.sessionId, scope);
    return c.body(null, 204);
  });

  app.get("/health", (c) => c.json({ name: "GoTrue", version: "workforce-embedded", description: "Workforce embedded auth" }));
  app.get("/settings", (c) =>
    c.json({
      external: { email: true },
      disable_signup: deps.signup.mode === "closed",
      signup_mode: deps.signup.mode,
      mailer_autoconfirm: deps.confirmation === "optional",
      phone_autoconfirm: false,
      sms_provider: "",
    }),
  );

  app.all("*", () => {
    throw new AppError("not_found", "This auth endpoint is not available in embedded mode");
  });
  return app;
}
