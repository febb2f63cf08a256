import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWTPayload } from "jose";
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

async function hs256(payload: JWTPayload, secret: Uint8Array = SECRET, kid?: string): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: "HS256", typ: "JWT", ...(kid ? { kid } : {}) }).sign(secret);
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
  const KID = "key-1";
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const keys = new Map<string, KeyObject>([[KID, ec.publicKey]]);
  const verify = embeddedTokenVerifier({ publicKey: async (kid) => keys.get(kid), issuer: ISSUER, now });
  /** `kid: null` leaves the kid out of the header. */
  const es256 = (payload: JWTPayload, privateKey: KeyObject = ec.privateKey, kid: string | null = KID) =>
    new SignJWT(payload).setProtectedHeader({ alg: "ES256", typ: "JWT", ...(kid === null ? {} : { kid }) }).sign(privateKey);

  it("accepts what it issues, signed ES256 with the key's kid in the header", async () => {
    const id = "33333333-3333-4333-8333-333333333333";
    const { token, expiresAt } = await issueAccessToken({
      signingKey: { kid: KID, privateKey: ec.privateKey },
      user: { id, email: "ada@example.com" },
      sessionId: "s1",
      issuer: ISSUER,
      now: NOW,
    });
    expect(expiresAt).toBe(iat + 3600);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: KID, typ: "JWT" });
    expect(await verify(token)).toEqual({ id, email: "ada@example.com", sessionId: "s1" });
  });

  it.each([
    ["alg none", async () => `${b64({ alg: "none", typ: "JWT", kid: KID })}.${b64(claims())}.`],
    ["expired", () => es256(claims({ exp: iat - 10 }))],
    ["not yet valid", () => es256(claims({ nbf: iat + 600 }))],
    ["wrong audience", () => es256(claims({ aud: "anon" }))],
    ["wrong issuer", () => es256(claims({ iss: "https://evil.example/auth/v1" }))],
    ["wrong role", () => es256(claims({ role: "service_role" }))],
    ["subject that is not a user id", () => es256(claims({ sub: "not-a-uuid" }))],
    ["no expiry", () => es256(claims({ exp: undefined }))],
    ["signed with another key under a known kid", () => es256(claims(), generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey)],
    ["signed with a key it does not know", () => es256(claims(), generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, "key-2")],
    ["without a kid", () => es256(claims(), ec.privateKey, null)],
    [
      "tampered payload",
      async () => {
        const [header, , signature] = (await es256(claims())).split(".");
        return `${header}.${b64(claims({ sub: "22222222-2222-4222-8222-222222222222" }))}.${signature}`;
      },
    ],
    ["malformed", async () => "not-a-jwt"],
    ["empty segments", async () => ".."],
    ["HS256 with some secret", () => hs256(claims(), SECRET, KID)],
    // Algorithm confusion: the public key is public, so an HMAC "signed" with it proves nothing.
    ["HS256 signed with the public key (PEM)", async () => hs256(claims(), new TextEncoder().encode(ec.publicKey.export({ format: "pem", type: "spki" }).toString()), KID)],
    ["HS256 signed with the public key (JWK)", async () => hs256(claims(), new TextEncoder().encode(JSON.stringify(ec.publicKey.export({ format: "jwk" }))), KID)],
    [
      "RS256 instead of ES256",
      async () => {
        const { privateKey } = await generateKeyPair("RS256");
        return new SignJWT(claims()).setProtectedHeader({ alg: "RS256", kid: KID }).sign(privateKey);
      },
    ],
  ])("rejects %s with 401", async (_name, make) => {
    const error = await rejection(verify, await make());
    expect(error.status).toBe(401);
    expect(["invalid_token", "token_expired"]).toContain(error.code);
  });

  it("says token_expired for an expired token so clients know to refresh", async () => {
    expect((await rejection(verify, await es256(claims({ exp: iat - 10 })))).code).toBe("token_expired");
  });

  it("explains why a token of an unknown or revoked key is refused", async () => {
    const token = await es256(claims(), generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey, "revoked-key");
    expect((await rejection(verify, token)).message).toMatch(/unknown or revoked/);
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
