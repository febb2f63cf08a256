import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTVerifyGetKey } from "jose";
import { AppError } from "@workforce/protocol";
import { AUDIENCE, tokenError, userFromClaims, type AccessTokenVerifier } from "./access-token";

const ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"];

export interface SupabaseVerifierOptions {
  /** SUPABASE_URL, e.g. https://project.supabase.co */
  supabaseUrl: string;
  /** SUPABASE_JWT_SECRET for projects still on the shared HS256 secret. */
  jwtSecret: string | undefined;
  now: () => Date;
  /** Overrides the JWKS lookup (tests pass a local key set). */
  keys?: JWTVerifyGetKey;
}

/**
 * Verifies hosted Supabase access tokens: asymmetric keys from the project's JWKS, or the
 * HS256 secret when one is configured. Algorithms are pinned per key type, so an RS256 public
 * key can never be used as an HMAC secret; audience, issuer and expiry are always checked.
 */
export function supabaseTokenVerifier(options: SupabaseVerifierOptions): AccessTokenVerifier {
  const issuer = `${options.supabaseUrl}/auth/v1`;
  const keys = options.keys ?? createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
  const secret = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;
  return async (token) => {
    try {
      const header = decodeProtectedHeader(token);
      const common = { audience: AUDIENCE, issuer, currentDate: options.now(), requiredClaims: ["exp", "sub"] };
      if (header.alg === "HS256") {
        if (!secret) throw new AppError("invalid_token", "HS256 tokens are not accepted: SUPABASE_JWT_SECRET is not configured");
        return userFromClaims((await jwtVerify(token, secret, { ...common, algorithms: ["HS256"] })).payload);
      }
      return userFromClaims((await jwtVerify(token, keys, { ...common, algorithms: ASYMMETRIC_ALGORITHMS })).payload);
    } catch (error) {
      throw tokenError(error);
    }
  };
}
