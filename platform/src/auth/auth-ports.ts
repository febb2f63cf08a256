import type { IssuedAccessToken } from "./access-token";

/** Hashes and checks passwords (bounded concurrency; old formats upgraded on sign-in). */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /** Compares with `stored`; with undefined (no such account) it spends the same time and says no. */
  verify(password: string, stored: string | undefined): Promise<boolean>;
  /** Whether a stored hash should be replaced by a fresh one at the next successful sign-in. */
  needsRehash(stored: string): boolean;
}

/** One admitted sign-in attempt: report how it went, so the counters help the victim. */
export interface SignInAttempt {
  succeeded(): Promise<void>;
  failed(): Promise<void>;
}

/** Rate limits of the unauthenticated auth routes; each method throws 429 `rate_limited` when over. */
export interface AuthGuard {
  signIn(email: string, address: string): Promise<SignInAttempt>;
  signUp(address: string): Promise<void>;
  /** Before mailing a link or code to `email` (recovery, resend, reauthentication). */
  sendMail(email: string, address: string): Promise<void>;
}

/** Signs access tokens for a session. */
export interface AccessTokenIssuer {
  issue(options: { user: { id: string; email: string }; sessionId: string; issuer: string; now: Date; amr: string }): Promise<IssuedAccessToken>;
}
