/**
 * Typed 6-digit codes (`/verify` with `{ email, token }`): each token stops after five wrong
 * codes, but a guesser could ask for a new code every minute. These limits cap the guesses per
 * address and per client, so a code cannot be worn down over days.
 */
import type { RateLimit, RateLimiter } from "../limits/rate-limiter";
import { addressBucket, limitKey, normalizeEmail } from "./limit-keys";
import { rateLimitedError } from "./rate-limited-error";

/** The defaults of the code-entry limits. */
export const CODE_GUARD_DEFAULTS = {
  /** Codes typed for one email address: 10 per hour (two codes' worth of attempts). */
  perEmail: { limit: 10, windowMs: 60 * 60_000 },
  /** Codes typed from one client address, for any email: 60 per hour. */
  perAddress: { limit: 60, windowMs: 60 * 60_000 },
} as const satisfies Omit<CodeGuardOptions, "limiter">;

export interface CodeGuardOptions {
  limiter: RateLimiter;
  perEmail?: RateLimit;
  perAddress?: RateLimit;
}

export interface CodeGuard {
  /** Counts one typed code before it is checked; throws 429 `rate_limited` with Retry-After past a limit. */
  admit(input: { email: string; address: string }): Promise<void>;
}

export function createCodeGuard(options: CodeGuardOptions): CodeGuard {
  const perEmail = options.perEmail ?? CODE_GUARD_DEFAULTS.perEmail;
  const perAddress = options.perAddress ?? CODE_GUARD_DEFAULTS.perAddress;
  return {
    async admit({ email, address }) {
      const fromAddress = await options.limiter.hit(limitKey("code:address", addressBucket(address)), perAddress);
      if (!fromAddress.allowed) throw rateLimitedError("Too many codes tried from your network", fromAddress.retryAfterSeconds);
      const forEmail = await options.limiter.hit(limitKey("code:email", normalizeEmail(email)), perEmail);
      if (!forEmail.allowed) throw rateLimitedError("Too many codes tried for this address; ask for a new link instead", forEmail.retryAfterSeconds);
    },
  };
}
