import { createCodeGuard, type CodeGuard, type CodeGuardOptions } from "./code-guard";
import { createEmailRequestGuard, type EmailRequestGuard, type EmailRequestGuardOptions } from "./email-request-guard";
import { createSignInGuard, type SignInGuard, type SignInGuardOptions } from "./sign-in-guard";
import { createSignUpGuard, type SignUpGuard, type SignUpGuardOptions } from "./sign-up-guard";
import type { RateLimiter } from "../limits/rate-limiter";

export type { PasswordHasher } from "./password";

/** The rate limits of the unauthenticated auth routes; each throws 429 `rate_limited` before any hashing or mailing. */
export interface AuthGuards {
  signIn: SignInGuard;
  signUp: SignUpGuard;
  /** Before mailing a link or code (recovery, resend, reauthentication). */
  email: EmailRequestGuard;
  /** Before checking a typed 6-digit code. */
  codes: CodeGuard;
}

/** The guards over one shared limiter; limits default to each guard's documented defaults. */
export function createAuthGuards(
  limiter: RateLimiter,
  limits: {
    signIn?: Omit<SignInGuardOptions, "limiter">;
    signUp?: Omit<SignUpGuardOptions, "limiter">;
    email?: Omit<EmailRequestGuardOptions, "limiter">;
    codes?: Omit<CodeGuardOptions, "limiter">;
  } = {},
): AuthGuards {
  return {
    signIn: createSignInGuard({ limiter, ...limits.signIn }),
    signUp: createSignUpGuard({ limiter, ...limits.signUp }),
    email: createEmailRequestGuard({ limiter, ...limits.email }),
    codes: createCodeGuard({ limiter, ...limits.codes }),
  };
}
