/**
 * Sign-in throttling that slows the attacker, not the account. A per-email lock lets anyone who
 * knows an address lock its owner out; instead, attempts are counted per client address and per
 * account *and* address, and the account as a whole is only ever slowed down, never locked:
 *
 * 1. per client address (IPv6: per /64): `perAddress`, default 20 attempts / 15 min;
 * 2. per account and client address: `perAccountAddress`, default 5 / 15 min;
 * 3. per account across all addresses: `perAccount`, default 100 / 15 min. Beyond it the account
 *    is not locked: it admits one attempt per `accountSlowdownMs` (default 2 s), so a distributed
 *    guesser gets about 100 + 450 guesses per 15 minutes, while the owner waits seconds at worst.
 *
 * Each step is one atomic `hit`, taken in that order, and a refused step stops there: a flood from
 * one address is spent on that address's own counters and never reaches the account-wide one, so
 * the owner signing in from elsewhere is admitted at once. Every attempt is counted before any
 * password is hashed, and refused ones are never hashed. Unknown emails are counted exactly like
 * known ones, so a refusal says nothing about whether an account exists.
 */
import type { RateLimit, RateLimiter } from "../limits/rate-limiter";
import { addressBucket, limitKey, normalizeEmail } from "./limit-keys";
import { rateLimitedError } from "./rate-limited-error";

const FIFTEEN_MINUTES = 15 * 60_000;

/** The defaults of every sign-in limit (see the module comment for what each guards against). */
export const SIGN_IN_GUARD_DEFAULTS = {
  /** Attempts from one client address (IPv6: one /64), whatever the account: 20 per 15 minutes. */
  perAddress: { limit: 20, windowMs: FIFTEEN_MINUTES },
  /** Attempts on one account from one client address: 5 per 15 minutes. */
  perAccountAddress: { limit: 5, windowMs: FIFTEEN_MINUTES },
  /** Attempts on one account from all addresses before it is slowed down: 100 per 15 minutes. */
  perAccount: { limit: 100, windowMs: FIFTEEN_MINUTES },
  /** Past `perAccount`, the account admits one attempt per this many milliseconds: 2 s. */
  accountSlowdownMs: 2_000,
} as const satisfies Omit<SignInGuardOptions, "limiter">;

export interface SignInGuardOptions {
  limiter: RateLimiter;
  perAddress?: RateLimit;
  perAccountAddress?: RateLimit;
  perAccount?: RateLimit;
  accountSlowdownMs?: number;
}

/** An admitted attempt; tell it when the password matched. */
export interface SignInAttempt {
  /**
   * The password matched: forgets this address's count for the account and gives back the
   * attempt to the address and account-wide counts (so an owner's own sign-ins never add up).
   */
  succeeded(): Promise<void>;
}

export interface SignInGuard {
  /**
   * Counts one attempt before the password is checked. Throws 429 `rate_limited` with
   * Retry-After and a readable message when a limit is reached; then do not hash anything.
   * `address` is the client address (`http/client-address.ts`); the email is normalised here.
   */
  admit(input: { email: string; address: string }): Promise<SignInAttempt>;
}

export function createSignInGuard(options: SignInGuardOptions): SignInGuard {
  const { limiter } = options;
  const perAddress = options.perAddress ?? SIGN_IN_GUARD_DEFAULTS.perAddress;
  const perAccountAddress = options.perAccountAddress ?? SIGN_IN_GUARD_DEFAULTS.perAccountAddress;
  const perAccount = options.perAccount ?? SIGN_IN_GUARD_DEFAULTS.perAccount;
  const slowdown = { limit: 1, windowMs: options.accountSlowdownMs ?? SIGN_IN_GUARD_DEFAULTS.accountSlowdownMs };

  return {
    async admit(input) {
      const email = normalizeEmail(input.email);
      const bucket = addressBucket(input.address);
      const keys = {
        address: limitKey("sign-in:address", bucket),
        accountAddress: limitKey("sign-in:account-address", email, bucket),
        account: limitKey("sign-in:account", email),
        slowdown: limitKey("sign-in:account-slowdown", email),
      };

      const address = await limiter.hit(keys.address, perAddress);
      if (!address.allowed) throw rateLimitedError("Too many sign-in attempts from your network", address.retryAfterSeconds);
      const accountAddress = await limiter.hit(keys.accountAddress, perAccountAddress);
      if (!accountAddress.allowed) throw rateLimitedError("Too many sign-in attempts for this account from your network", accountAddress.retryAfterSeconds);
      const account = await limiter.hit(keys.account, perAccount);
      if (!account.allowed) {
        const slowed = await limiter.hit(keys.slowdown, slowdown);
        if (!slowed.allowed) throw rateLimitedError("This account is receiving many sign-in attempts, so they are slowed down", slowed.retryAfterSeconds);
      }

      return {
        async succeeded() {
          await Promise.all([limiter.reset(keys.accountAddress), limiter.refund(keys.address), limiter.refund(keys.account)]);
        },
      };
    },
  };
}
