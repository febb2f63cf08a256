/**
 * Stand-ins until the hardened hasher and throttle land: scrypt as before, no rate limits.
 * Replaced by auth/password.ts (argon2id, bounded) and the sign-in guard.
 */
import type { AuthGuard, PasswordHasher } from "./auth-ports";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "./password";

export const legacyPasswords: PasswordHasher = {
  hash: hashPassword,
  verify: (password, stored) => verifyPassword(password, stored ?? DUMMY_PASSWORD_HASH),
  needsRehash: () => false,
};

export const noGuard: AuthGuard = {
  signIn: async () => ({ succeeded: async () => undefined, failed: async () => undefined }),
  signUp: async () => undefined,
  sendMail: async () => undefined,
};
