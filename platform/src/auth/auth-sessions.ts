import { randomUUID } from "node:crypto";
import type { SystemDatabase, SystemTransaction, UserRow } from "../db/schema";
import { withSystem } from "../db/scopes";
import { hashToken, newRefreshToken } from "./refresh-token";

/** How long a sign-in lasts: without a refresh (idle), and at most (absolute). */
export interface SessionLifetimes {
  idleMs: number;
  maxMs: number;
}

export const DEFAULT_SESSION_LIFETIMES: SessionLifetimes = { idleMs: 14 * 86_400_000, maxMs: 90 * 86_400_000 };

/** A rotated refresh token presented again within this window (two tabs refreshing at once) is not treated as theft. */
export const REFRESH_REUSE_WINDOW_MS = 10_000;

export type SessionAmr = "password" | "recovery" | "otp";

export type RotateOutcome =
  | { kind: "ok"; user: UserRow; sessionId: string; refreshToken: string; amr: SessionAmr }
  | { kind: "unknown" }
  | { kind: "signed-out" }
  /** The session ended now (`sessionId`), at its idle or absolute lifetime. */
  | { kind: "expired"; sessionId: string }
  /** The session was revoked now (`sessionId`): its refresh token leaked. */
  | { kind: "reused"; sessionId: string };

export type SignOutScope = "global" | "local" | "others";

/**
 * Sign-in sessions and their rotating refresh tokens. A session is one sign-in; access tokens
 * name it (`session_id`), so revoking it ends them too (checked on each request, within the
 * authentication cache's few seconds). Idle and absolute lifetimes end it at the next refresh.
 */
export function createAuthSessions(deps: { system: SystemDatabase; now: () => Date; lifetimes?: SessionLifetimes }) {
  const { system, now } = deps;
  const lifetimes = deps.lifetimes ?? DEFAULT_SESSION_LIFETIMES;

  async function storeRefreshToken(trx: SystemTransaction, userId: string, sessionId: string, parentHash: string | null): Promise<string> {
    const refreshToken = newRefreshToken();
    await trx
      .insertInto("refresh_tokens")
      .values({ token_hash: hashToken(refreshToken), user_id: userId, session_id: sessionId, parent_hash: parentHash, created_at: now() })
      .execute();
    return refreshToken;
  }

  const expired = (session: { created_at: Date; refreshed_at: Date }) =>
    now().getTime() - session.refreshed_at.getTime() > lifetimes.idleMs || now().getTime() - session.created_at.getTime() > lifetimes.maxMs;

  return {
    lifetimes,

    /** A new session and its first refresh token, inside the caller's transaction. */
    async start(trx: SystemTransaction, userId: string, amr: SessionAmr): Promise<{ sessionId: string; refreshToken: string }> {
      const sessionId = randomUUID();
      await trx.insertInto("auth_sessions").values({ id: sessionId, user_id: userId, created_at: now(), refreshed_at: now(), amr }).execute();
      return { sessionId, refreshToken: await storeRefreshToken(trx, userId, sessionId, null) };
    },

    /**
     * Rotates a refresh token. A token used a second time outside the reuse window means it
     * leaked: the whole session is revoked. A session past its idle or absolute lifetime ends.
     */
    async rotate(refreshToken: string): Promise<RotateOutcome> {
      const hash = hashToken(refreshToken);
      return withSystem(system, async (trx): Promise<RotateOutcome> => {
        const row = await trx
          .selectFrom("refresh_tokens")
          .innerJoin("auth_sessions", "auth_sessions.id", "refresh_tokens.session_id")
          .select([
            "refresh_tokens.user_id",
            "refresh_tokens.session_id",
            "refresh_tokens.revoked",
            "auth_sessions.created_at",
            "auth_sessions.refreshed_at",
            "auth_sessions.revoked_at",
            "auth_sessions.amr",
          ])
          .where("refresh_tokens.token_hash", "=", hash)
          .forUpdate()
          .executeTakeFirst();
        if (!row) return { kind: "unknown" };
        if (row.revoked_at) return { kind: "signed-out" };
        const revokeSession = () => trx.updateTable("auth_sessions").set({ revoked_at: now() }).where("id", "=", row.session_id).execute();
        if (expired(row)) {
          await revokeSession();
          return { kind: "expired", sessionId: row.session_id };
        }
        if (row.revoked) {
          const child = await trx
            .selectFrom("refresh_tokens")
            .select(["created_at", "revoked"])
            .where("parent_hash", "=", hash)
            .orderBy("created_at", "desc")
            .executeTakeFirst();
          const recent = child && !child.revoked && now().getTime() - child.created_at.getTime() < REFRESH_REUSE_WINDOW_MS;
          if (!recent) {
            await revokeSession();
            return { kind: "reused", sessionId: row.session_id };
          }
        } else {
          await trx.updateTable("refresh_tokens").set({ revoked: true }).where("token_hash", "=", hash).execute();
        }
        const user = await trx.selectFrom("users").selectAll().where("id", "=", row.user_id).executeTakeFirst();
        if (!user) return { kind: "unknown" };
        await trx.updateTable("auth_sessions").set({ refreshed_at: now() }).where("id", "=", row.session_id).execute();
        const next = await storeRefreshToken(trx, user.id, row.session_id, hash);
        return { kind: "ok", user, sessionId: row.session_id, refreshToken: next, amr: row.amr };
      });
    },

    /** The session behind an access token, when it is still signed in. */
    async find(userId: string, sessionId: string): Promise<{ createdAt: Date; amr: SessionAmr } | undefined> {
      const row = await withSystem(system, (trx) =>
        trx
          .selectFrom("auth_sessions")
          .select(["created_at", "amr", "revoked_at"])
          .where("id", "=", sessionId)
          .where("user_id", "=", userId)
          .executeTakeFirst(),
      );
      return row && !row.revoked_at ? { createdAt: row.created_at, amr: row.amr } : undefined;
    },

    /** Signs out: this session (local), every session (global), or every other one (others). Returns the revoked ids. */
    async revoke(userId: string, sessionId: string | undefined, scope: SignOutScope): Promise<string[]> {
      return withSystem(system, async (trx) => {
        let query = trx.updateTable("auth_sessions").set({ revoked_at: now() }).where("user_id", "=", userId).where("revoked_at", "is", null);
        if (scope === "local") query = query.where("id", "=", sessionId ?? "00000000-0000-0000-0000-000000000000");
        if (scope === "others" && sessionId) query = query.where("id", "!=", sessionId);
        return (await query.returning("id").execute()).map((row) => row.id);
      });
    },

    /** Deletes sessions (and their refresh tokens) that ended: revoked, idle or past their absolute lifetime. */
    async prune(): Promise<number> {
      const idleSince = new Date(now().getTime() - lifetimes.idleMs);
      const createdSince = new Date(now().getTime() - lifetimes.maxMs);
      const result = await withSystem(system, (trx) =>
        trx
          .deleteFrom("auth_sessions")
          .where((eb) => eb.or([eb("revoked_at", "is not", null), eb("refreshed_at", "<", idleSince), eb("created_at", "<", createdSince)]))
          .executeTakeFirst(),
      );
      return Number(result.numDeletedRows);
    },
  };
}

export type AuthSessions = ReturnType<typeof createAuthSessions>;
