import { randomUUID } from "node:crypto";
import { AppError } from "@workforce/protocol";
import { audit } from "../db/audit";
import type { SystemDatabase, SystemTransaction, UserRow } from "../db/schema";
import { withSystem } from "../db/scopes";
import type { AccessTokenIssuer } from "./access-token";
import { toGoTrueUser, type GoTrueSession, type GoTrueUser } from "./gotrue-user";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "./password";
import { hashToken, newRefreshToken } from "./refresh-token";
import { createSignInThrottle, type SignInThrottleOptions } from "./sign-in-throttle";

export const MIN_PASSWORD_LENGTH = 8;
/** A rotated refresh token presented again within this window (two tabs refreshing at once) is not treated as theft. */
export const REFRESH_REUSE_WINDOW_MS = 10_000;

export interface AuthServiceDeps {
  system: SystemDatabase;
  /** Signs access tokens (the signing key ring's current key). */
  issueAccessToken: AccessTokenIssuer;
  now: () => Date;
  throttle?: SignInThrottleOptions;
}


export type SignOutScope = "global" | "local" | "others";

/** The embedded, GoTrue-compatible identity provider: users, passwords, sessions, refresh tokens. */
export function createAuthService(deps: AuthServiceDeps) {
  const { system, now } = deps;
  const throttle = createSignInThrottle(system, now, deps.throttle);

  /** Stores a new refresh token (inside the caller's transaction, so a rotation is atomic) and returns it. */
  async function storeRefreshToken(executor: SystemTransaction, userId: string, sessionId: string, parentHash: string | null): Promise<string> {
    const refreshToken = newRefreshToken();
    await executor
      .insertInto("refresh_tokens")
      .values({ token_hash: hashToken(refreshToken), user_id: userId, session_id: sessionId, parent_hash: parentHash, created_at: now() })
      .execute();
    return refreshToken;
  }

  async function sessionFor(user: UserRow, issuer: string, sessionId: string, refreshToken: string): Promise<GoTrueSession> {
    const access = await deps.issueAccessToken({ user, sessionId, issuer, now: now() });
    return {
      access_token: access.token,
      token_type: "bearer",
      expires_in: access.expiresIn,
      expires_at: access.expiresAt,
      refresh_token: refreshToken,
      user: toGoTrueUser(user),
    };
  }

  /**
   * A wrong password for an existing account goes into the audit log of every organisation the
   * account belongs to, so their admins can see it being guessed. Unknown emails belong to no
   * organisation (they are only counted by the throttle); attempts refused by the throttle are
   * not logged, so an attacker cannot flood the log.
   */
  async function auditSignInFailure(userId: string, email: string): Promise<void> {
    await withSystem(system, async (trx) => {
      const tenants = await trx.selectFrom("memberships").select("tenant_id").where("user_id", "=", userId).execute();
      for (const { tenant_id: tenantId } of tenants) {
        await audit(trx, { tenantId, actor: { userId: null, apiKeyId: null }, action: "auth.sign_in_failed", target: userId, details: { email, reason: "invalid_password" } });
      }
    });
  }

  async function startSession(user: UserRow, issuer: string): Promise<GoTrueSession> {
    const sessionId = randomUUID();
    return sessionFor(user, issuer, sessionId, await withSystem(system, (trx) => storeRefreshToken(trx, user.id, sessionId, null)));
  }

  return {
    /** Creates the user, an organisation named after them with the user as owner, and a session. */
    async signUp(input: { email: string; password: string }, issuer: string): Promise<GoTrueSession> {
      const email = input.email.trim().toLowerCase();
      if (input.password.length < MIN_PASSWORD_LENGTH) {
        throw new AppError("weak_password", `Password should be at least ${MIN_PASSWORD_LENGTH} characters.`);
      }
      const passwordHash = await hashPassword(input.password);
      const user = await withSystem(system, async (trx) => {
        const created = await trx
          .insertInto("users")
          .values({ email, password_hash: passwordHash, last_sign_in_at: now(), created_at: now(), updated_at: now() })
          .onConflict((conflict) => conflict.column("email").doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!created) throw new AppError("email_taken", "A user with this email address has already been registered");
        const localPart = email.split("@")[0] ?? email;
        const tenant = await trx
          .insertInto("tenants")
          .values({ name: `${localPart}'s organisation`, created_at: now() })
          .returning("id")
          .executeTakeFirstOrThrow();
        await trx.insertInto("memberships").values({ tenant_id: tenant.id, user_id: created.id, role: "owner", created_at: now() }).execute();
        await audit(trx, { tenantId: tenant.id, actor: { userId: created.id, apiKeyId: null }, action: "tenant.create", target: tenant.id, details: { name: `${localPart}'s organisation` } });
        return created;
      });
      return startSession(user, issuer);
    },

    async signInWithPassword(input: { email: string; password: string }, issuer: string): Promise<GoTrueSession> {
      const email = input.email.trim().toLowerCase();
      await throttle.check(email);
      const user = await withSystem(system, (trx) => trx.selectFrom("users").selectAll().where("email", "=", email).executeTakeFirst());
      const matches = await verifyPassword(input.password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
      if (!user || !matches) {
        await throttle.recordFailure(email);
        if (user) await auditSignInFailure(user.id, email);
        throw new AppError("invalid_credentials", "Invalid login credentials");
      }
      await throttle.reset(email);
      const signedIn = await withSystem(system, (trx) =>
        trx.updateTable("users").set({ last_sign_in_at: now() }).where("id", "=", user.id).returningAll().executeTakeFirstOrThrow(),
      );
      return startSession(signedIn, issuer);
    },

    /**
     * Rotates a refresh token. A token used a second time outside the reuse window means it
     * leaked: the whole session (every token of its family) is revoked.
     */
    async refresh(refreshToken: string, issuer: string): Promise<GoTrueSession> {
      const hash = hashToken(refreshToken);
      const outcome = await withSystem(system, async (trx) => {
        const row = await trx.selectFrom("refresh_tokens").selectAll().where("token_hash", "=", hash).forUpdate().executeTakeFirst();
        if (!row) return { kind: "unknown" as const };
        if (row.revoked) {
          const child = await trx
            .selectFrom("refresh_tokens")
            .select(["created_at", "revoked"])
            .where("parent_hash", "=", hash)
            .orderBy("created_at", "desc")
            .executeTakeFirst();
          const recent = child && !child.revoked && now().getTime() - child.created_at.getTime() < REFRESH_REUSE_WINDOW_MS;
          if (!recent) {
            await trx.updateTable("refresh_tokens").set({ revoked: true }).where("session_id", "=", row.session_id).execute();
            return { kind: "reused" as const };
          }
        } else {
          await trx.updateTable("refresh_tokens").set({ revoked: true }).where("token_hash", "=", hash).execute();
        }
        const user = await trx.selectFrom("users").selectAll().where("id", "=", row.user_id).executeTakeFirst();
        if (!user) return { kind: "unknown" as const };
        const next = await storeRefreshToken(trx, user.id, row.session_id, hash);
        return { kind: "ok" as const, user, sessionId: row.session_id, refreshToken: next };
      });
      if (outcome.kind === "unknown") throw new AppError("invalid_token", "Invalid Refresh Token: Refresh Token Not Found");
      if (outcome.kind === "reused") {
        throw new AppError("invalid_token", "Invalid Refresh Token: Already Used; the session was signed out for safety");
      }
      return sessionFor(outcome.user, issuer, outcome.sessionId, outcome.refreshToken);
    },

    /** The user behind a verified token, provided its session has not been signed out. */
    async getUser(userId: string, sessionId: string | undefined): Promise<GoTrueUser> {
      return withSystem(system, async (trx) => {
        const user = await trx.selectFrom("users").selectAll().where("id", "=", userId).executeTakeFirst();
        if (!user) throw new AppError("invalid_token", "User from sub claim in JWT does not exist");
        if (sessionId) {
          const active = await trx
            .selectFrom("refresh_tokens")
            .select("token_hash")
            .where("session_id", "=", sessionId)
            .where("revoked", "=", false)
            .executeTakeFirst();
          if (!active) throw new AppError("invalid_token", "Session from session_id claim in JWT does not exist or was signed out");
        }
        return toGoTrueUser(user);
      });
    },

    async signOut(userId: string, sessionId: string | undefined, scope: SignOutScope): Promise<void> {
      await withSystem(system, async (trx) => {
        let query = trx.updateTable("refresh_tokens").set({ revoked: true }).where("user_id", "=", userId);
        if (scope === "local") query = query.where("session_id", "=", sessionId ?? "00000000-0000-0000-0000-000000000000");
        if (scope === "others" && sessionId) query = query.where("session_id", "!=", sessionId);
        await query.execute();
      });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
