import { createPublicKey, randomUUID } from "node:crypto";
import fc from "fast-check";
import { SignJWT, type JWTPayload } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { startServer, type RunningServer } from "../../gateway/src/server/start-server";
import { changedPaths, changesOutside, expectWellFormed, fuzzParameters, hostileString, snapshotTree, urlSegment } from "../../gateway/src/test-support/fuzz";
import { startTestGateway, type TestGateway } from "../../gateway/src/test-support/test-gateway";
import type { SigningKey } from "../../platform/src/auth/access-token";
import { listMemberships } from "../../platform/src/auth/authenticate";
import { caller, createTestPlatform, signUp, TEST_ORIGIN, type TestPlatform } from "../../platform/src/test-support/test-platform";

/**
 * Fuzzes the platform API in front of a real gateway: forged, malformed, expired and wrongly
 * addressed JWTs get exactly the 401 a client would see; everything else (tenant ids, slugs,
 * session keys, run ids, bodies) never gets a 5xx or a malformed error, never shows Bob's secret
 * to Alice, and only changes TENANT_DATA_DIR below Alice's own tenants.
 */
const HOOK_TOKEN = "platform-fuzz-hook-token";
const SECRET = "BOB-CANARY-88e1-quiet-harbour";
let gateway: TestGateway;
let server: RunningServer;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let alice: { token: string; userId: string; tenantId: string };
let bob: { token: string; userId: string; tenantId: string };
let bobRun = "";
/** The platform's own signing key: tokens it signs are judged by their claims alone. */
let platformKey: SigningKey;

beforeAll(async () => {
  gateway = await startTestGateway({ hookToken: HOOK_TOKEN, registry: { compactDelayMs: 600_000 } });
  server = await startServer(gateway.gateway.app, 0, "127.0.0.1", (request, socket, head) => gateway.gateway.websocket.handleUpgrade(request, socket, head));
  platform = await createTestPlatform({ gatewayUrl: server.url, hookToken: HOOK_TOKEN });
  call = caller(platform);
  platformKey = await platform.signingKey();
  alice = await signUp(platform, "alice@example.com");
  bob = await signUp(platform, "bob@example.com");
  for (const [user, persona] of [
    [alice, "Plain."],
    [bob, `Keeps ${SECRET}.`],
  ] as const) {
    expect((await call("POST", "/api/agents", { token: user.token, body: { name: "Ada", role: "Analyst", persona } })).status).toBe(201);
    const run = await call("POST", "/api/agents/ada/messages", { token: user.token, body: { message: `remember ${user === bob ? SECRET : "nothing"}`, sessionKey: "first" } });
    expect([run.status, run.status === 200 ? "" : await run.text()]).toEqual([200, ""]);
    if (user === bob) bobRun = run.headers.get("x-run-id") ?? "";
    await run.text();
  }
});
afterAll(async () => {
  await platform?.close();
  await server?.close();
  await gateway?.cleanup();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);
const base64url = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
function claims(overrides: JWTPayload = {}): JWTPayload {
  const iat = nowSeconds();
  return { sub: alice.userId, email: "alice@example.com", role: "authenticated", aud: "authenticated", iss: `${TEST_ORIGIN}/auth/v1`, iat, exp: iat + 600, ...overrides };
}
/** HS256 with a secret, or ES256 with a signing key (and its kid). */
function sign(payload: JWTPayload, key: Uint8Array | SigningKey, alg = "HS256"): Promise<string> {
  if (key instanceof Uint8Array) return new SignJWT(payload).setProtectedHeader({ alg, typ: "JWT" }).sign(key);
  return new SignJWT(payload).setProtectedHeader({ alg: "ES256", kid: key.kid, typ: "JWT" }).sign(key.privateKey);
}

/** An Authorization header and the exact code GET /api/agents must answer with ("ok": 200). */
type TokenCase = { kind: string; make: () => Promise<string | undefined>; code: string };
const tokenCase: fc.Arbitrary<TokenCase> = fc.oneof(
  fc.constant<TokenCase>({ kind: "valid", make: async () => `Bearer ${alice.token}`, code: "ok" }),
  fc.constant<TokenCase>({ kind: "absent", make: async () => undefined, code: "unauthorized" }),
  fc.constantFrom("Basic YWxpY2U6cHc=", "Bearer", "Bearer ", "Token abc", "bearer", "Bearer a b").map((header): TokenCase => ({ kind: "bad scheme", make: async () => header, code: "unauthorized" })),
  fc.constant<TokenCase>({ kind: "two tokens", make: async () => `Bearer ${alice.token} ${alice.token}`, code: "unauthorized" }),
  fc.stringMatching(/^[!-~]{1,400}$/).map((token): TokenCase => ({ kind: "garbage", make: async () => `Bearer ${token}`, code: "invalid_token" })),
  fc.stringMatching(/^[A-Za-z0-9_-]{0,60}$/).map((rest): TokenCase => ({ kind: "fake api key", make: async () => `Bearer wf_${rest}`, code: "invalid_token" })),
  fc
    .record({
      alg: fc.constantFrom("none", "None", "NONE", "HS256", "HS512", "RS256", "ES256", ""),
      kid: fc.option(hostileString(), { nil: undefined }),
      sub: fc.constantFrom("alice", "bob"),
      role: fc.constantFrom("authenticated", "service_role"),
      signature: fc.constantFrom("", "AAAA", "alice's"),
    })
    .map(
      ({ alg, kid, sub, role, signature }): TokenCase => ({
        kind: `unsigned ${alg} ${signature}`,
        make: async () => {
          const body = `${base64url({ alg, typ: "JWT", ...(kid === undefined ? {} : { kid }) })}.${base64url(claims({ sub: sub === "bob" ? bob.userId : alice.userId, role }))}`;
          return `Bearer ${body}.${signature === "alice's" ? alice.token.split(".")[2] : signature}`;
        },
        code: "invalid_token",
      }),
    ),
  fc.uint8Array({ minLength: 32, maxLength: 64 }).map((secret): TokenCase => ({ kind: "another secret", make: async () => `Bearer ${await sign(claims({ sub: bob.userId }), secret)}`, code: "invalid_token" })),
  fc.integer({ min: 1, max: 10_000_000 }).map((ago): TokenCase => ({ kind: "expired", make: async () => `Bearer ${await sign(claims({ iat: nowSeconds() - ago - 600, exp: nowSeconds() - ago }), platformKey)}`, code: "token_expired" })),
  fc
    .constantFrom<[string, JWTPayload]>(
      ["wrong audience", { aud: "anon" }],
      ["audience list without ours", { aud: ["service", "anon"] }],
      ["wrong issuer", { iss: "https://evil.example/auth/v1" }],
      ["service role", { role: "service_role" }],
      ["no expiry", { exp: undefined }],
      ["not yet valid", { nbf: nowSeconds() + 3600 }],
      ["no subject", { sub: undefined }],
    )
    .map(([kind, overrides]): TokenCase => ({ kind, make: async () => `Bearer ${await sign(claims(overrides), platformKey)}`, code: "invalid_token" })),
  fc.constantFrom("HS256", "HS512").map(
    (alg): TokenCase => ({
      // Algorithm confusion: our public key is public, so an HMAC keyed with it proves nothing.
      kind: `${alg} keyed with our public key`,
      make: async () => {
        const publicPem = new TextEncoder().encode(createPublicKey(platformKey.privateKey).export({ format: "pem", type: "spki" }).toString());
        const token = await new SignJWT(claims()).setProtectedHeader({ alg, kid: platformKey.kid, typ: "JWT" }).sign(publicPem);
        return `Bearer ${token}`;
      },
      code: "invalid_token",
    }),
  ),
  fc.constant<TokenCase>({
    kind: "tampered payload",
    make: async () => {
      const [header, , signature] = alice.token.split(".");
      return `Bearer ${header}.${base64url(claims({ sub: bob.userId }))}.${signature}`;
    },
    code: "invalid_token",
  }),
);

describe("platform API under fuzzed credentials and input", () => {
  it("answers every broken, forged or stale token with the exact 401 code", async () => {
    await fc.assert(
      fc.asyncProperty(tokenCase, async (testCase) => {
        const authorization = await testCase.make();
        const response = await platform.app.request(`${TEST_ORIGIN}/api/agents`, { headers: authorization === undefined ? {} : { authorization } });
        const text = await expectWellFormed(response, testCase.kind);
        const code = response.status === 200 ? "ok" : (JSON.parse(text) as { error: { code: string } }).error.code;
        expect({ kind: testCase.kind, status: response.status, code }).toEqual({ kind: testCase.kind, status: testCase.code === "ok" ? 200 : 401, code: testCase.code });
        expect(text).not.toContain(SECRET);
      }),
      fuzzParameters(150),
    );
  });

  it("never answers 5xx or leaks Bob's data, and writes only below Alice's tenants", async () => {
    const tenantHeader = fc.oneof(
      { weight: 4, arbitrary: fc.constant<string | undefined>(undefined) },
      { weight: 3, arbitrary: fc.constant(alice.tenantId) },
      { weight: 1, arbitrary: fc.constantFrom(bob.tenantId, bob.tenantId.toUpperCase(), ` ${alice.tenantId} `, `${alice.tenantId}, ${bob.tenantId}`, randomUUID(), "../x") },
      { weight: 1, arbitrary: hostileString(40) },
    );
    const segment = urlSegment(fc.oneof({ weight: 3, arbitrary: fc.constantFrom("ada", "first", "ghost", bobRun) }, { weight: 2, arbitrary: hostileString() }));
    const routes: [string, (slug: string, key: string) => string][] = [
      ["GET", () => "/api/agents"],
      ["POST", () => "/api/agents"],
      ["GET", (slug) => `/api/agents/${slug}`],
      ["PATCH", (slug) => `/api/agents/${slug}`],
      ["DELETE", (slug) => `/api/agents/${slug}`],
      ["GET", (slug) => `/api/agents/${slug}/sessions`],
      ["GET", (slug, key) => `/api/agents/${slug}/sessions/${key}`],
      ["PATCH", (slug, key) => `/api/agents/${slug}/sessions/${key}`],
      ["DELETE", (slug, key) => `/api/agents/${slug}/sessions/${key}`],
      ["GET", (slug, key) => `/api/agents/${slug}/sessions/${key}/export?format=${key}`],
      ["POST", (slug) => `/api/agents/${slug}/messages`],
      ["GET", (_slug, key) => `/api/runs/${key}/events?after=${key}`],
      ["POST", (_slug, key) => `/api/runs/${key}/abort`],
      ["GET", () => "/api/me"],
      ["GET", () => "/api/members"],
      ["POST", () => "/api/keys"],
      ["GET", () => "/api/audit"],
      ["PUT", () => "/api/budget"],
      ["PATCH", () => "/api/tenant"],
      ["POST", () => "/api/invitations"],
      ["GET", () => "/auth/v1/user"],
      ["POST", (_slug, key) => `/auth/v1/token?grant_type=${key}`],
      ["GET", (slug) => `/api/${slug}`],
    ];
    const body = fc.oneof(
      { weight: 4, arbitrary: fc.record(
          {
            name: fc.string(),
            role: fc.string(),
            message: fc.oneof(fc.string({ minLength: 1 }), hostileString()),
            sessionKey: fc.oneof(fc.constantFrom("first", "second"), hostileString()),
            title: fc.string(),
            email: fc.string(),
            monthlyTokens: fc.integer(),
          },
          { requiredKeys: [] },
        ) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      { weight: 1, arbitrary: fc.nat({ max: 20_000 }).map((depth) => "[".repeat(depth) + "]".repeat(depth)) },
      { weight: 1, arbitrary: fc.constantFrom("{", "x".repeat(1024 * 1024 + 1), '{"__proto__":{"admin":true}}') },
    );
    const request = fc.record({
      route: fc.nat({ max: routes.length - 1 }),
      slug: segment,
      key: segment,
      tenant: tenantHeader,
      broken: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: tokenCase }),
      body: fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: 4, arbitrary: body }),
      lastEventId: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.string() }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 5 }), async (batch) => {
        // A batch may have deleted Alice's agent; give it back so the next one reaches sessions and runs.
        if ((await call("GET", "/api/agents/ada", { token: alice.token })).status === 404) {
          expect((await call("POST", "/api/agents", { token: alice.token, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
        }
        const before = await snapshotTree(gateway.dataDir);
        for (const input of batch) {
          const [method, path] = routes[input.route]!;
          const url = path(input.slug, input.key);
          let headers: Headers;
          try {
            headers = new Headers({ authorization: (await input.broken?.make()) ?? `Bearer ${alice.token}` });
            if (input.tenant !== undefined) headers.set("x-tenant-id", input.tenant);
            if (input.lastEventId !== undefined) headers.set("last-event-id", input.lastEventId);
            if (input.body !== undefined) headers.set("content-type", "application/json");
          } catch {
            continue; // not a value any HTTP client can send
          }
          const requestBody = input.body === undefined ? undefined : typeof input.body === "string" ? input.body : JSON.stringify(input.body);
          let response: Response;
          try {
            response = await platform.app.request(`${TEST_ORIGIN}${url}`, { method, headers, body: requestBody });
          } catch (error) {
            if (error instanceof TypeError) continue; // the URL itself is unusable
            throw error;
          }
          const text = await expectWellFormed(response, `${method} ${url.slice(0, 200)} tenant=${JSON.stringify(input.tenant)} token=${input.broken?.kind ?? "alice"}`);
          expect(text.includes(SECRET), `${method} ${url} showed Bob's secret to Alice`).toBe(false);
        }
        const aliceTenants = (await listMemberships(platform.database.db, alice.userId)).map((tenant) => tenant.id);
        expect(aliceTenants).not.toContain(bob.tenantId);
        expect(changesOutside(changedPaths(before, await snapshotTree(gateway.dataDir)), aliceTenants)).toEqual([]);
      }),
      fuzzParameters(40),
    );
    const bobs = await call("GET", "/api/agents/ada/sessions/first", { token: bob.token });
    expect(await bobs.text()).toContain(SECRET);
  });

  it("answers a client that hangs up mid-body with 400, not a database outage", async () => {
    for (const path of ["/api/agents", "/api/agents/ada/messages", "/api/keys"]) {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('{"name":'));
          // What Node raises on the request stream when the client goes away mid-body.
          controller.error(Object.assign(new Error("aborted"), { code: "ECONNRESET" }));
        },
      });
      const response = await platform.app.request(`${TEST_ORIGIN}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${alice.token}`, "content-type": "application/json" },
        body,
        duplex: "half",
      });
      expect({ path, status: response.status, code: ((await response.json()) as { error: { code: string } }).error.code }).toEqual({ path, status: 400, code: "validation_failed" });
    }
  });

  // Found by this suite: a signed token whose `sub` is not a UUID used to reach Postgres as a user
  // id and fail there (500). The claims schema now requires a UUID.
  it("answers a signed token with a non-UUID subject with 401 invalid_token", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    for (const sub of ["not-a-uuid", "\u0000", "x".repeat(300)]) {
      const token = await sign(claims({ sub }), platformKey);
      for (const path of ["/api/agents", "/api/me", "/auth/v1/user"]) {
        const response = await platform.app.request(`${TEST_ORIGIN}${path}`, { headers: { authorization: `Bearer ${token}` } });
        const body = (await response.json()) as { error?: { code: string } };
        expect({ sub: sub.slice(0, 20), path, status: response.status, code: body.error?.code }).toEqual({ sub: sub.slice(0, 20), path, status: 401, code: "invalid_token" });
      }
    }
  });
});
