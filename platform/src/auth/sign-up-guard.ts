/**
 * Sign-up throttling per client address: each sign-up hashes a password and creates an account
 * and an organisation, so an unauthenticated flood of them is refused before any of that.
 */
import type { RateLimit, RateLimiter } from "../limits/rate-limiter";
import { addressBucket, limitKey } from "./limit-keys";
import { rateLimitedError } from "./rate-limited-error";

/** The defaults of the sign-up limits. */
export const SIGN_UP_GUARD_DEFAULTS = {
  /** Sign-ups from one client address (IPv6: one /64): 10 per hour. */
  perAddress: { limit: 10, windowMs: 60 * 60_000 },
} as const satisfies Omit<SignUpGuardOptions, "limiter">;

export interface SignUpGuardOptions {
  limiter: RateLimiter;
  perAddress?: RateLimit;
}

export interface SignUpGuard {
  /** Counts one sign-up before the password is hashed; throws 429 `rate_limited` with Retry-After past the limit. */
  admit(input: { address: string }): Promise<void>;
}

export function createSignUpGuard(options: SignUpGuardOptions): SignUpGuard {
  const perAddress = options.perAddress ?? SIGN_UP_GUARD_DEFAULTS.perAddress;
  return {
    async admit({ address }) {
      const decision = await options.limiter.hit(limitKey("sign-up:address", addressBucket(address)), perAddress);
      if (!decision.allowed) throw rateLimitedError("Too many sign-ups from your network", decision.retryAfterSeconds);
    },
  };
}
