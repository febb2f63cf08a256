import type { KeyObject } from "node:crypto";
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { AppError } from "@workforce/protocol";
import { z } from "zod";

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

export interface IssueAccessTokenOptions {
  user: { id: string; email: string };
  sessionId: string;
  /** The `iss` claim: `<public origin>/auth/v1`. */
  issuer: string;
  now: Date;
  ttlSeconds?: number;
  /** How the session began (`password`, `recovery`, `otp`), for the `amr` claim. */
  amr?: string;
}

/** Signs access tokens for the embedded auth (the signing key ring implements it). */
export type AccessTokenIssuer = (options: IssueAccessTokenOptions) => Promise<IssuedAccessToken>;

/** The key a token is signed with: its `kid` goes into the header so verifiers can pick the public key. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

export const SIGNING_ALGORITHM = "ES256";

/** Issues Supabase-shaped ES256 access tokens, header `{ alg: "ES256", kid, typ: "JWT" }`. */
export async function issueAccessToken(options: IssueAccessTokenOptions & { signingKey: SigningKey }): Promise<IssuedAccessToken> {
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
    .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid: options.signingKey.kid, typ: "JWT" })
    .setSubject(options.user.id)
    .setAudience(AUDIENCE)
    .setIssuer(options.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + expiresIn)
    .sign(options.signingKey.privateKey);
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
 * Verifier for tokens this platform issued (embedded auth). Only ES256 is accepted, whatever the
 * token's header says (no `none`, no HS256 "signed" with a public key, no RSA), and only with
 * the public key of the kid it names: `publicKey` answers for current, standby and previous keys
 * and undefined for revoked or unknown ones. The issuer is pinned when the public URL is known.
 */
export function embeddedTokenVerifier(options: {
  publicKey: (kid: string) => Promise<KeyObject | undefined>;
  issuer: string | undefined;
  now: () => Date;
}): AccessTokenVerifier {
  return async (token) => {
    try {
      let header;
      try {
        header = decodeProtectedHeader(token);
      } catch {
        throw new AppError("invalid_token", "access token is not a JWT");
      }
      if (header.alg !== SIGNING_ALGORITHM) throw new AppError("invalid_token", `access token must be signed with ${SIGNING_ALGORITHM}`);
      if (typeof header.kid !== "string" || header.kid === "") throw new AppError("invalid_token", "access token names no signing key (kid)");
      const key = await options.publicKey(header.kid);
      if (!key) throw new AppError("invalid_token", "access token was signed with a key that is unknown or revoked; sign in again");
      const { payload } = await jwtVerify(token, key, {
        algorithms: [SIGNING_ALGORITHM],
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
