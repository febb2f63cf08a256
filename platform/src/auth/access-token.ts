import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { AppError } from "@workforce/protocol";
import { z } from "zod";
import type { AccessTokenIssuer } from "./auth-ports";

/** Who a verified access token speaks for. */
export interface AuthenticatedUser {
  id: string;
  email: string;
  /** The sign-in session (refresh-token family) the token belongs to. */
  sessionId: string | undefined;
}

/** Verifies a bearer token and returns its user, or throws AppError (401). */
export type AccessTokenVerifier = (token: string) => Promise<AuthenticatedUser>;

export const ACCESS_TOKEN_TTL_SECONDS = 3600;
export const AUDIENCE = "authenticated";

const Claims = z.object({
  /** Supabase user ids are UUIDs; anything else would only fail later, in the database. */
  sub: z.uuid({ message: "sub must be a user id (UUID)" }),
  email: z.string().default(""),
  role: z.literal("authenticated", { message: "role must be 'authenticated'" }),
  session_id: z.string().optional(),
});

export interface IssuedAccessToken {
  token: string;
  expiresIn: number;
  /** Seconds since the epoch. */
  expiresAt: number;
}

/** Issues Supabase-shaped HS256 access tokens. */
export async function issueAccessToken(options: {
  secret: Uint8Array;
  user: { id: string; email: string };
  sessionId: string;
  issuer: string;
  now: Date;
  ttlSeconds?: number;
  /** How the session began (`password`, `recovery`, `otp`). */
  amr?: string;
}): Promise<IssuedAccessToken> {
  const iat = Math.floor(options.now.getTime() / 1000);
  const expiresIn = options.ttlSeconds ?? ACCESS_TOKEN_TTL_SECONDS;
  const token = await new SignJWT({
    email: options.user.email,
    role: "authenticated",
    session_id: options.sessionId,
    aal: "aal1",
    amr: [{ method: options.amr ?? "password", timestamp: iat }],
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
    is_anonymous: false,
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(options.user.id)
    .setAudience(AUDIENCE)
    .setIssuer(options.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + expiresIn)
    .sign(options.secret);
  return { token, expiresIn, expiresAt: iat + expiresIn };
}

/** Turns verified claims into a user, or a 401 when a required claim is missing. */
export function userFromClaims(payload: JWTPayload): AuthenticatedUser {
  const claims = Claims.safeParse(payload);
  if (!claims.success) throw new AppError("invalid_token", "access token is missing required claims or has malformed ones (sub must be a UUID, role 'authenticated')");
  return { id: claims.data.sub, email: claims.data.email, sessionId: claims.data.session_id };
}

/** Maps jose's failures onto our codes: expired → token_expired, everything else → invalid_token. */
export function tokenError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof joseErrors.JWTExpired) return new AppError("token_expired", "access token has expired; refresh the session");
  if (error instanceof joseErrors.JWTClaimValidationFailed) {
    return new AppError("invalid_token", `access token rejected: ${error.claim} claim is invalid (${error.reason})`);
  }
  return new AppError("invalid_token", "access token is invalid");
}

/**
 * Verifier for tokens this platform issued (embedded auth). Only HS256 is accepted, whatever
 * the token's header says; the issuer is pinned when the public URL is known.
 */
export function embeddedTokenVerifier(options: { secret: Uint8Array; issuer: string | undefined; now: () => Date }): AccessTokenVerifier {
  return async (token) => {
    try {
      const { payload } = await jwtVerify(token, options.secret, {
        algorithms: ["HS256"],
        audience: AUDIENCE,
        ...(options.issuer ? { issuer: options.issuer } : {}),
        currentDate: options.now(),
        requiredClaims: ["exp", "sub", "iat"],
      });
      if (!options.issuer && (typeof payload.iss !== "string" || !payload.iss.endsWith("/auth/v1"))) {
        throw new AppError("invalid_token", "access token was not issued by this platform");
      }
      return userFromClaims(payload);
    } catch (error) {
      throw tokenError(error);
    }
  };
}

/** The HS256 issuer over `secret` (until the asymmetric key ring replaces it). */
export function hs256Issuer(secret: Uint8Array): AccessTokenIssuer {
  return { issue: (options) => issueAccessToken({ secret, ...options }) };
}
