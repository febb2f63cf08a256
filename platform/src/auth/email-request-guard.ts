/**
 * Throttling of the endpoints that send an email on request (password reset, resending the
 * confirmation): nobody can use the platform to flood an inbox, or to send mail in bulk.
 *
 * Counted per client address first (IPv6: per /64), then per recipient and purpose. Both are
 * counted whether or not an account has that email, so a refusal reveals nothing about accounts.
 */
import type { RateLimit, RateLimiter } from "../limits/rate-limiter";
import { addressBucket, limitKey, normalizeEmail } from "./limit-keys";
import { rateLimitedError } from "./rate-limited-error";

/** The defaults of the email-request limits. */
export const EMAIL_REQUEST_GUARD_DEFAULTS = {
  /** Emails of one purpose to one address: 1 per 60 seconds. */
  perEmail: { limit: 1, windowMs: 60_000 },
  /** Email requests from one client address, whatever the recipient or purpose: 20 per hour. */
  perAddress: { limit: 20, windowMs: 60 * 60_000 },
} as const satisfies Omit<EmailRequestGuardOptions, "limiter">;

export interface EmailRequestGuardOptions {
  limiter: RateLimiter;
  perEmail?: RateLimit;
  perAddress?: RateLimit;
}

export interface EmailRequestGuard {
  /**
   * Counts one request before anything is looked up or sent. `purpose` keeps the counts of
   * different mails apart (e.g. "password-reset", "confirmation"). Throws 429 `rate_limited`
   * with Retry-After past a limit.
   */
  admit(input: { email: string; address: string; purpose: string }): Promise<void>;
}

export function createEmailRequestGuard(options: EmailRequestGuardOptions): EmailRequestGuard {
  const perEmail = options.perEmail ?? EMAIL_REQUEST_GUARD_DEFAULTS.perEmail;
  const perAddress = options.perAddress ?? EMAIL_REQUEST_GUARD_DEFAULTS.perAddress;
  return {
    async admit({ email, address, purpose }) {
      const fromAddress = await options.limiter.hit(limitKey("email-request:address", addressBucket(address)), perAddress);
      if (!fromAddress.allowed) throw rateLimitedError("Too many email requests from your network", fromAddress.retryAfterSeconds);
      const toEmail = await options.limiter.hit(limitKey(`email-request:${purpose}`, normalizeEmail(email)), perEmail);
      if (!toEmail.allowed) throw rateLimitedError("An email like this was sent to this address a moment ago", toEmail.retryAfterSeconds);
    },
  };
}
