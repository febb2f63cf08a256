/**
 * Fixed-window rate-limit counters in the database (table `rate_limits`, migration 007), shared by
 * every platform process. Each `hit` is one atomic upsert, so 200 parallel requests on any number
 * of processes admit exactly `limit`; nothing is read first and written later.
 *
 * Time comes from the injected clock, never the database's `now()`, so tests can move it and
 * every process agrees with its own log lines. Refusals are remembered in the process for a few
 * seconds (`denyCacheMs`), so a flood that is already refused stops reaching the database.
 */
import { createHash } from "node:crypto";
import { sql } from "kysely";
import type { SystemDatabase } from "../db/schema";
import { withSystem } from "../db/scopes";

/** How many hits one key may take per window. */
export interface RateLimit {
  /** Hits admitted per window (a positive integer). */
  limit: number;
  /** Window length in milliseconds; the window starts at the first hit after the previous one expired. */
  windowMs: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Hits in the current window, this one included (refused hits count too). */
  count: number;
  limit: number;
  /** When the current window ends and the count starts again from zero. */
  resetAt: Date;
  /** 0 when allowed; otherwise whole seconds until the window ends (at least 1), for Retry-After. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /**
   * Counts `weight` hits (default 1) on `key` and says whether the count is within the limit. One
   * atomic statement; a weight above 1 is how a process hands over hits it counted locally.
   */
  hit(key: string, limit: RateLimit, weight?: number): Promise<RateLimitDecision>;
  /** Takes one hit back (an attempt that turned out legitimate); never below zero, a no-op on an expired window. */
  refund(key: string): Promise<void>;
  /** Forgets the key's window altogether. */
  reset(key: string): Promise<void>;
  /**
   * Deletes expired windows in batches of `batchSize` (default 500), at most `maxBatches` (default
   * 20) per call, each batch its own short transaction. Returns how many rows went; call it from a
   * periodic timer (every minute is plenty). Rows of live windows are never touched.
   */
  prune(options?: { batchSize?: number; maxBatches?: number }): Promise<number>;
}

export interface RateLimiterDeps {
  system: SystemDatabase;
  now: () => Date;
  /**
   * How long this process keeps refusing a key it has seen refused without asking the database
   * again (default 5 000 ms, never past the window's end; 0 turns it off). A flood from one
   * address then costs one statement per key every few seconds instead of one per request. It
   * only ever refuses: admissions always come from the database. A refund or reset on another
   * process is seen here within this time.
   */
  denyCacheMs?: number;
  /** Keys the refusal cache holds at most, oldest dropped first (default 10 000). */
  denyCacheEntries?: number;
}

/** Keys longer than this are stored as their SHA-256, so a row never grows with its input. */
export const MAX_STORED_KEY_LENGTH = 128;

/** The key as stored: short keys as they are (readable in the table), long ones hashed. */
export function storedKey(key: string): string {
  if (key.length <= MAX_STORED_KEY_LENGTH) return key;
  return `sha256:${createHash("sha256").update(key).digest("base64url")}`;
}

function checkLimit({ limit, windowMs }: RateLimit): void {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`rate limit must be a positive integer, got ${limit}`);
  if (!Number.isInteger(windowMs) || windowMs < 1) throw new RangeError(`rate-limit window must be a positive number of milliseconds, got ${windowMs}`);
}

/** A refusal remembered by this process: until when, and the window's end for Retry-After. */
interface CachedRefusal {
  until: number;
  resetAt: Date;
  count: number;
}

export function createRateLimiter({ system, now, denyCacheMs = 5_000, denyCacheEntries = 10_000 }: RateLimiterDeps): RateLimiter {
  const refusals = new Map<string, CachedRefusal>();

  function remember(key: string, decision: RateLimitDecision, at: Date): void {
    if (denyCacheMs <= 0) return;
    refusals.delete(key);
    refusals.set(key, { until: Math.min(decision.resetAt.getTime(), at.getTime() + denyCacheMs), resetAt: decision.resetAt, count: decision.count });
    // Maps iterate in insertion order: the first key is the oldest refusal.
    while (refusals.size > denyCacheEntries) refusals.delete(refusals.keys().next().value!);
  }

  return {
    async hit(key, rateLimit, weight = 1) {
      checkLimit(rateLimit);
      if (!Number.isInteger(weight) || weight < 1) throw new RangeError(`rate-limit weight must be a positive integer, got ${weight}`);
      const at = now();
      const cached = refusals.get(storedKey(key));
      if (cached && at.getTime() < cached.until) {
        return { allowed: false, count: cached.count, limit: rateLimit.limit, resetAt: cached.resetAt, retryAfterSeconds: Math.max(1, Math.ceil((cached.resetAt.getTime() - at.getTime()) / 1000)) };
      }
      if (cached) refusals.delete(storedKey(key));
      const expiresAt = new Date(at.getTime() + rateLimit.windowMs);
      // Insert a fresh window, or (on conflict) start a new one when the stored window has
      // expired, else add the weight. `rate_limits.*` on the right-hand side is the row before the
      // update; the row lock makes concurrent hits on one key queue up and each see the last.
      const row = await withSystem(system, (trx) =>
        trx
          .insertInto("rate_limits")
          .values({ key: storedKey(key), window_start: at, expires_at: expiresAt, count: weight })
          .onConflict((conflict) =>
            conflict.column("key").doUpdateSet({
              window_start: sql<Date>`case when rate_limits.expires_at <= ${at} then excluded.window_start else rate_limits.window_start end`,
              expires_at: sql<Date>`case when rate_limits.expires_at <= ${at} then excluded.expires_at else rate_limits.expires_at end`,
              count: sql<number>`case when rate_limits.expires_at <= ${at} then excluded.count else rate_limits.count + excluded.count end`,
            }),
          )
          .returning(["count", "expires_at"])
          .executeTakeFirstOrThrow(),
      );
      const count = Number(row.count);
      const resetAt = new Date(row.expires_at);
      const allowed = count <= rateLimit.limit;
      const decision = {
        allowed,
        count,
        limit: rateLimit.limit,
        resetAt,
        retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((resetAt.getTime() - at.getTime()) / 1000)),
      };
      if (!allowed) remember(storedKey(key), decision, at);
      return decision;
    },

    async refund(key) {
      refusals.delete(storedKey(key));
      await withSystem(system, (trx) =>
        trx
          .updateTable("rate_limits")
          .set({ count: sql<number>`greatest(count - 1, 0)` })
          .where("key", "=", storedKey(key))
          .where("expires_at", ">", now())
          .execute(),
      );
    },

    async reset(key) {
      refusals.delete(storedKey(key));
      await withSystem(system, (trx) => trx.deleteFrom("rate_limits").where("key", "=", storedKey(key)).execute());
    },

    async prune(options = {}) {
      const batchSize = options.batchSize ?? 500;
      const maxBatches = options.maxBatches ?? 20;
      let removed = 0;
      for (let batch = 0; batch < maxBatches; batch += 1) {
        const at = now();
        // The outer `expires_at <= at` is checked again on the row being deleted: a window that
        // a concurrent hit just restarted is kept, even though the subquery had picked it.
        const result = await withSystem(system, (trx) =>
          trx
            .deleteFrom("rate_limits")
            .where("key", "in", (query) => query.selectFrom("rate_limits").select("key").where("expires_at", "<=", at).orderBy("expires_at").limit(batchSize))
            .where("expires_at", "<=", at)
            .executeTakeFirst(),
        );
        const deleted = Number(result.numDeletedRows);
        removed += deleted;
        if (deleted < batchSize) break;
      }
      return removed;
    },
  };
}
