import { createLocalJWKSet, exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { AppError } from "@workforce/protocol";
import { beforeAll, describe, expect, it } from "vitest";
import { embeddedTokenVerifier, issueAccessToken, type AccessTokenVerifier } from "./access-token";
import { supabaseTokenVerifier } from "./supabase-verifier";

const NOW = new Date("2025-06-01T12:00:00Z");
const now = () => NOW;
const SECRET = new TextEncoder().encode("a-very-secret-secret-of-32-bytes!!");
const ISSUER = "http://platform.test/auth/v1";
const SUPABASE_URL = "https://project.supabase.co";
const iat = Math.floor(NOW.getTime() / 1000);

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const claims = (overrides: JWTPayload = {}): JWTPayload => ({
  sub: "11111111-1111-4111-8111-111111111111",
  email: "ada@example.com",
  role: "authenticated",
  aud: "authenticated",
  iss: ISSUER,
  iat,
  exp: iat + 3600,
  ...overrides,
});

async function hs256(payload: JWTPayload, secret: Uint8Array = SECRET): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(secret);
}

async function rejection(verify: AccessTokenVerifier, token: string): Promise<AppError> {
  const error: unknown = await verify(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe("embedded access tokens", () => {
  const verify = embeddedTokenVerifier({ secret: SECRET, issuer: ISSUER, now });

  it("accepts what it issues", async () => {
    const id = "33333333-3333-4333-8333-333333333333";
    const { token, expiresAt } = await issueAccessToken({ secret: SECRET, user: { id, email: "ada@example.com" }, sessionId: "s1", issuer: ISSUER, now: NOW });
    expect(expiresAt).toBe(iat + 3600);
    expect(await verify(token)).toEqual({ id, email: "ada@example.com", sessionId: "s1" });
  });

  it.each([
    ["alg none", async () => `${b64({ alg: "none", typ: "JWT" })}.${b64(claims())}.`],
    ["expired", () => hs256(claims({ exp: iat - 10 }))],
    ["not yet valid", () => hs256(claims({ nbf: iat + 600 }))],
    ["wrong audience", () => hs256(claims({ aud: "anon" }))],
    ["wrong issuer", () => hs256(claims({ iss: "https://evil.example/auth/v1" }))],
    ["wrong role", () => hs256(claims({ role: "service_role" }))],
    ["subject that is not a user id", () => hs256(claims({ sub: "not-a-uuid" }))],
    ["no expiry", () => hs256(claims({ exp: undefined }))],
    ["signed with another secret", () => hs256(claims(), new TextEncoder().encode("another-secret-another-secret-xx"))],
    [
      "tampered payload",
      async () => {
        const [header, , signature] = (await hs256(claims())).split(".");
        return `${header}.${b64(claims({ sub: "22222222-2222-4222-8222-222222222222" }))}.${signature}`;
      },
    ],
    ["malformed", async () => "not-a-jwt"],
    ["empty segments", async () => ".."],
    [
      "RS256 instead of HS256",
      async () => {
        const { privateKey } = await generateKeyPair("RS256");
        return new SignJWT(claims()).setProtectedHeader({ alg: "RS256" }).sign(privateKey);
      },
    ],
  ])("rejects %s with 401", async (_name, make) => {
    const error = await rejection(verify, await make());
    expect(error.status).toBe(401);
    expect(["invalid_token", "token_expired"]).toContain(error.code);
  });

  it("says token_expired for an expired token so clients know to refresh", async () => {
    expect((await rejection(verify, await hs256(claims({ exp: iat - 10 })))).code).toBe("token_expired");
  });
});

describe("Supabase access tokens", () => {
  let rsa: Awaited<ReturnType<typeof generateKeyPair>>;
  let ec: Awaited<ReturnType<typeof generateKeyPair>>;
  let verify: AccessTokenVerifier;
  let verifyWithoutSecret: AccessTokenVerifier;
  const supabaseClaims = (overrides: JWTPayload = {}) => claims({ iss: `${SUPABASE_URL}/auth/v1`, ...overrides });

  beforeAll(async () => {
    rsa = await generateKeyPair("RS256");
    ec = await generateKeyPair("ES256");
    const keys = createLocalJWKSet({
      keys: [
        { ...(await exportJWK(rsa.publicKey)), kid: "rsa", alg: "RS256" },
        { ...(await exportJWK(ec.publicKey)), kid: "ec", alg: "ES256" },
      ],
    });
    verify = supabaseTokenVerifier({ supabaseUrl: SUPABASE_URL, jwtSecret: "legacy-hs256-secret-legacy-hs256", now, keys });
    verifyWithoutSecret = supabaseTokenVerifier({ supabaseUrl: SUPABASE_URL, jwtSecret: undefined, now, keys });
  });

  it("accepts RS256 and ES256 tokens from the project's JWKS, and HS256 with the configured secret", async () => {
    const rs = await new SignJWT(supabaseClaims()).setProtectedHeader({ alg: "RS256", kid: "rsa" }).sign(rsa.privateKey);
    const es = await new SignJWT(supabaseClaims()).setProtectedHeader({ alg: "ES256", kid: "ec" }).sign(ec.privateKey);
    const hs = await hs256(supabaseClaims(), new TextEncoder().encode("legacy-hs256-secret-legacy-hs256"));
    for (const token of [rs, es, hs]) expect((await verify(token)).email).toBe("ada@example.com");
  });

  it("rejects HS256 signed with the RSA public key (algorithm confusion)", async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const forged = await new SignJWT(supabaseClaims()).setProtectedHeader({ alg: "HS256", kid: "rsa" }).sign(pem);
    expect((await rejection(verify, forged)).status).toBe(401);
    expect((await rejection(verifyWithoutSecret, forged)).message).toMatch(/SUPABASE_JWT_SECRET/);
  });

  it.each([
    ["wrong issuer", { iss: "https://other.supabase.co/auth/v1" }],
    ["wrong audience", { aud: "anon" }],
    ["expired", { exp: iat - 1 }],
    ["not yet valid", { nbf: iat + 3600 }],
  ])("rejects %s", async (_name, overrides) => {
    const token = await new SignJWT(supabaseClaims(overrides)).setProtectedHeader({ alg: "RS256", kid: "rsa" }).sign(rsa.privateKey);
    expect((await rejection(verify, token)).status).toBe(401);
  });

  it("rejects alg none and a key it does not know", async () => {
    expect((await rejection(verify, `${b64({ alg: "none" })}.${b64(supabaseClaims())}.`)).status).toBe(401);
    const stranger = await generateKeyPair("RS256");
    const token = await new SignJWT(supabaseClaims()).setProtectedHeader({ alg: "RS256", kid: "rsa" }).sign(stranger.privateKey);
    expect((await rejection(verify, token)).status).toBe(401);
  });
});
