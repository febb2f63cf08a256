import { AppError } from "@workforce/protocol";
import { audit } from "../db/audit";
import type { SystemDatabase, UserRow } from "../db/schema";
import { withSystem } from "../db/scopes";
import type { Tenancy } from "../tenancy";
import type { AccountMail } from "./account-mail";
import type { AccessTokenIssuer } from "./access-token";
import type { AuthGuards, PasswordHasher } from "./auth-ports";
import { createAuthSessions, type SessionAmr, type SessionLifetimes, type SignOutScope } from "./auth-sessions";
import { createEmailFlows } from "./email-flows";
import { toGoTrueUser, type GoTrueSession, type GoTrueUser } from "./gotrue-user";
import { createOneTimeTokens } from "./one-time-tokens";
import { MAX_PASSWORD_BYTES } from "./password";
import { createSignUp } from "./sign-up";
import type { SignupPolicy } from "./signup-policy";

export type { SignOutScope } from "./auth-sessions";

/** WORKFORCE_EMAIL_CONFIRMATION: whether an unconfirmed account may sign in. */
export type EmailConfirmation = "required" | "optional";

export interface AuthServiceDeps {
  system: SystemDatabase;
  now: () => Date;
  /** Signs access tokens (the signing key ring's current key). */
  issueAccessToken: AccessTokenIssuer;
  passwords: PasswordHasher;
  guards: AuthGuards;
  mail: AccountMail;
  tenancy: Tenancy;
  /** `<PUBLIC_URL>/auth/v1`, the `iss` of every access token. */
  issuer: string;
  signup: SignupPolicy;
  confirmation: EmailConfirmation;
  lifetimes?: SessionLifetimes;
  /** Called with session ids that were just signed out, so caches drop their tokens at once. */
  onSessionsEnded?: (sessionIds: string[]) => void;
  logError: (message: string, error: unknown) => void;
}

/** Where a request came from, for rate limits. */
export interface RequestContext {
  address: string;
}

/** The embedded, GoTrue-compatible identity provider: users, passwords, sessions, email flows. */
export function createAuthService(deps: AuthServiceDeps) {
  const { system, now } = deps;
  const sessions = createAuthSessions({ system, now, ...(deps.lifetimes ? { lifetimes: deps.lifetimes } : {}) });
  const oneTimeTokens = createOneTimeTokens(now);

  async function sessionFor(user: UserRow, sessionId: string, refreshToken: string, amr: SessionAmr): Promise<GoTrueSession> {
    const access = await deps.issueAccessToken({ user, sessionId, issuer: deps.issuer, now: now(), amr });
    return {
      access_token: access.token,
      token_type: "bearer",
      expires_in: access.expiresIn,
      expires_at: access.expiresAt,
      refresh_token: refreshToken,
      user: toGoTrueUser(user),
    };
  }

  /** A new session for `user` (inside its own transaction) and its tokens. */
  async function startSession(user: UserRow, amr: SessionAmr): Promise<GoTrueSession> {
    const started = await withSystem(system, (trx) => sessions.start(trx, user.id, amr));
    return sessionFor(user, started.sessionId, started.refreshToken, amr);
  }

  function ended(ids: string[]): void {
    if (ids.length > 0) deps.onSessionsEnded?.(ids);
  }

  /**
   * A wrong password for an existing account goes into the audit log of every organisation the
   * account belongs to, so their admins can see it being guessed. Attempts refused by the
   * throttle never get this far, so an attacker cannot flood the log.
   */
  async function auditSignInFailure(userId: string, email: string): Promise<void> {
    await withSystem(system, async (trx) => {
      const tenants = await trx.selectFrom("memberships").select("tenant_id").where("user_id", "=", userId).execute();
      for (const { tenant_id: tenantId } of tenants) {
        await audit(trx, { tenantId, actor: { userId: null, apiKeyId: null }, action: "auth.sign_in_failed", target: userId, details: { email, reason: "invalid_password" } });
      }
    });
  }

  const shared = { ...deps, sessions, oneTimeTokens, sessionFor, startSession, ended };
  const signUp = createSignUp(shared);
  const emailFlows = createEmailFlows(shared);

  return {
    sessions,
    signUp,
    ...emailFlows,

    async signInWithPassword(input: { email: string; password: string }, context: RequestContext): Promise<GoTrueSession> {
      const email = input.email.trim().toLowerCase();
      if (Buffer.byteLength(input.password, "utf8") > MAX_PASSWORD_BYTES) throw new AppError("invalid_credentials", "Invalid login credentials");
      // Counted before anything is hashed; a refused attempt costs the server one statement.
      const attempt = await deps.guards.signIn.admit({ email, address: context.address });
      const user = await withSystem(system, (trx) => trx.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst());
      const stored = user && user.password_hash.startsWith("!") ? undefined : user?.password_hash;
      const matches = await deps.passwords.verify(input.password, stored);
      if (!user || !matches || !stored) {
        if (user) await auditSignInFailure(user.id, email);
        throw new AppError("invalid_credentials", "Invalid login credentials");
      }
      await attempt.succeeded();
      if (deps.confirmation === "required" && !user.email_confirmed_at) {
        throw new AppError("email_not_confirmed", "Email not confirmed: open the link we emailed you, or ask for a new one");
      }
      // Old hashes (scrypt, weaker parameters) are replaced while the password is at hand.
      const rehashed = deps.passwords.needsRehash(stored) ? await deps.passwords.hash(input.password) : undefined;
      const signedIn = await withSystem(system, (trx) =>
        trx
          .updateTable("users")
          .set({ last_sign_in_at: now(), ...(rehashed ? { password_hash: rehashed } : {}) })
          .where("id", "=", user.id)
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
      return startSession(signedIn, "password");
    },

    async refresh(refreshToken: string): Promise<GoTrueSession> {
      const outcome = await sessions.rotate(refreshToken);
      switch (outcome.kind) {
        case "ok":
          return sessionFor(outcome.user, outcome.sessionId, outcome.refreshToken, outcome.amr);
        case "unknown":
          throw new AppError("invalid_token", "Invalid Refresh Token: Refresh Token Not Found");
        case "signed-out":
          throw new AppError("invalid_token", "Invalid Refresh Token: this session was signed out");
        case "expired":
          ended([outcome.sessionId]);
          throw new AppError("session_expired", "Your session has expired; sign in again");
        case "reused":
          // Its access tokens may be the thief's too: refused here at once, not when the cache lapses.
          ended([outcome.sessionId]);
          throw new AppError("invalid_token", "Invalid Refresh Token: Already Used; the session was signed out for safety");
      }
    },

    /** Whether the session an access token names is still signed in (checked on every request, cached briefly). */
    async isSessionActive(userId: string, sessionId: string): Promise<boolean> {
      return (await sessions.find(userId, sessionId)) !== undefined;
    },

    /** The user behind a verified token, provided its session has not been signed out. */
    async getUser(userId: string, sessionId: string | undefined): Promise<GoTrueUser> {
      if (sessionId && !(await sessions.find(userId, sessionId))) {
        throw new AppError("session_not_found", "Session from session_id claim in JWT does not exist or was signed out", { status: 403 });
      }
      return emailFlows.currentUser(userId);
    },

    async signOut(userId: string, sessionId: string | undefined, scope: SignOutScope): Promise<void> {
      ended(await sessions.revoke(userId, sessionId, scope));
    },

    /** Removes ended sessions and spent one-time tokens (a periodic chore). */
    async prune(): Promise<{ sessions: number; oneTimeTokens: number }> {
      const removedSessions = await sessions.prune();
      const removedTokens = await withSystem(system, (trx) => oneTimeTokens.prune(trx));
      return { sessions: removedSessions, oneTimeTokens: removedTokens };
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
export type AuthShared = Omit<AuthServiceDeps, never> & {
  sessions: ReturnType<typeof createAuthSessions>;
  oneTimeTokens: ReturnType<typeof createOneTimeTokens>;
  sessionFor: (user: UserRow, sessionId: string, refreshToken: string, amr: SessionAmr) => Promise<GoTrueSession>;
  startSession: (user: UserRow, amr: SessionAmr) => Promise<GoTrueSession>;
  ended: (ids: string[]) => void;
};
