import { AppError } from "@workforce/protocol";
import type { SystemDatabase } from "../db/schema";
import { createRateLimiter } from "../limits/rate-limiter";
import { limitKey } from "./limit-keys";

export interface SignInThrottleOptions {
  /** Failed attempts per email allowed inside the window before 429 (default 5). */
  maxFailures?: number;
  /** Window length in milliseconds (default 15 minutes). */
  windowMs?: number;
}

/**
 * @deprecated Transitional: keeps today's auth service working on the `rate_limits` table until it
 * uses `createSignInGuard` (per address, per account and address, account-wide slow-down), which
 * replaces this. Counts per email only, so it still locks the owner out after an attack.
 *
 * Every attempt counts atomically before the password is checked and a success forgets the count,
 * so this admits `maxFailures` wrong attempts per window however many arrive at once.
 */
export function createSignInThrottle(system: SystemDatabase, now: () => Date, options: SignInThrottleOptions = {}) {
  const limit = { limit: options.maxFailures ?? 5, windowMs: options.windowMs ?? 15 * 60_000 };
  const limiter = createRateLimiter({ system, now });
  const key = (email: string) => limitKey("sign-in:email", email);

  return {
    /** Counts this attempt; throws 429 rate_limited with Retry-After when this email has tried too often recently. */
    async check(email: string): Promise<void> {
      const decision = await limiter.hit(key(email), limit);
      if (decision.allowed) return;
      throw new AppError("rate_limited", `Too many failed sign-in attempts; try again in ${decision.retryAfterSeconds} seconds`, {
        headers: { "retry-after": String(decision.retryAfterSeconds) },
        retryable: true,
      });
    },
    /** The attempt was already counted by `check`. */
    async recordFailure(_email: string): Promise<void> {},
    async reset(email: string): Promise<void> {
      await limiter.reset(key(email));
    },
  };
}
