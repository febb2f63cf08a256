import { AppError } from "@workforce/protocol";
import type { AccessTokenVerifier } from "./access-token";

/**
 * Embedded auth: a token is good only while its session is signed in. Signing out (any scope),
 * a password change signing out other sessions, or a reused refresh token end the session, and
 * with it every access token issued for it — on this process at once, elsewhere within the
 * authentication cache's lifetime (decision 007).
 */
export function requireActiveSession(verify: AccessTokenVerifier, isActive: (userId: string, sessionId: string) => Promise<boolean>): AccessTokenVerifier {
  return async (token) => {
    const user = await verify(token);
    if (user.sessionId && !(await isActive(user.id, user.sessionId))) {
      throw new AppError("invalid_token", "This session was signed out or has expired; sign in again");
    }
    return user;
  };
}
