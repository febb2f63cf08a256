import { AppError } from "@workforce/protocol";
import type { SystemDatabase } from "../db/schema";
import { withSystem } from "../db/scopes";

export interface SignInThrottleOptions {
  /** Failed attempts per email allowed inside the window before 429 (default 5). */
  maxFailures?: number;
  /** Window length in milliseconds (default 15 minutes). */
  windowMs?: number;
}

/**
 * Limits failed password sign-ins per email. Failures live in the database, so every platform
 * process behind the load balancer sees the same count.
 */
export function createSignInThrottle(system: SystemDatabase, now: () => Date, options: SignInThrottleOptions = {}) {
  const maxFailures = options.maxFailures ?? 5;
  const windowMs = options.windowMs ?? 15 * 60_000;

  return {
    /** Throws 429 rate_limited with Retry-After when this email has failed too often recently. */
    async check(email: string): Promise<void> {
      const since = new Date(now().getTime() - windowMs);
      const failures = await withSystem(system, (trx) =>
        trx.selectFrom("sign_in_failures").select("failed_at").where("email", "=", email).where("failed_at", ">", since).orderBy("failed_at", "desc").limit(maxFailures).execute(),
      );
      if (failures.length < maxFailures) return;
      const oldest = failures[failures.length - 1]!.failed_at;
      const retryAfter = Math.max(1, Math.ceil((oldest.getTime() + windowMs - now().getTime()) / 1000));
      throw new AppError("rate_limited", `Too many failed sign-in attempts; try again in ${retryAfter} seconds`, {
        headers: { "retry-after": String(retryAfter) },
        retryable: true,
      });
    },
    async recordFailure(email: string): Promise<void> {
      await withSystem(system, async (trx) => {
        await trx.deleteFrom("sign_in_failures").where("email", "=", email).where("failed_at", "<=", new Date(now().getTime() - windowMs)).execute();
        await trx.insertInto("sign_in_failures").values({ email, failed_at: now() }).execute();
      });
    },
    async reset(email: string): Promise<void> {
      await withSystem(system, (trx) => trx.deleteFrom("sign_in_failures").where("email", "=", email).execute());
    },
  };
}
