/**
 * Throttling that helps the victim, not the attacker (issue 10): a flood of wrong passwords from
 * one address is refused before any hashing, the real owner signs in from another address at
 * once, and hashing never takes more than its share of the worker threads.
 */
import { createClient } from "@supabase/supabase-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuthGuards } from "../auth/auth-ports";
import { createHashLimiter, type HashLimiter } from "../auth/hash-limiter";
import { createPasswordHasher } from "../auth/password";
import { CODE_GUARD_DEFAULTS } from "../auth/code-guard";
import { SIGN_IN_GUARD_DEFAULTS } from "../auth/sign-in-guard";
import { createSigningKeyRing } from "../auth/signing-keys";
import type { OpenDatabase } from "../db/open-database";
import { createRateLimiter } from "../limits/rate-limiter";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { createTestPlatform, errorOf, openTestDatabase, TEST_MASTER_KEY, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";

const PASSWORD = "correct horse battery";
let gateway: FakeGateway;
let database: OpenDatabase;
let first: TestPlatform;
let second: TestPlatform;
const hashing = createHashLimiter();

/** A platform process with the production limits (and, for the first, an observable hasher). */
async function limitedPlatform(hasher: HashLimiter = createHashLimiter()): Promise<TestPlatform> {
  const now = () => new Date();
  const keys = createSigningKeyRing({ system: database.system, masterKey: TEST_MASTER_KEY, now, logError: (message, error) => console.error(message, error) });
  await keys.load();
  return createTestPlatform({
    gatewayUrl: gateway.url,
    database,
    parts: {
      embedded: {
        issueAccessToken: keys.issueAccessToken,
        verify: keys.verifier({ issuer: `${TEST_ORIGIN}/auth/v1` }),
        passwords: createPasswordHasher({ limiter: hasher }),
        guards: createAuthGuards(createRateLimiter({ system: database.system, now })),
      },
    },
  });
}

beforeAll(async () => {
  gateway = await startFakeGateway();
  database = await openTestDatabase();
  first = await limitedPlatform(hashing);
  second = await limitedPlatform();
  const signUp = await first.app.request(`${TEST_ORIGIN}/auth/v1/signup`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": "198.51.100.1" },
    body: JSON.stringify({ email: "victim@example.com", password: PASSWORD }),
  });
  expect(signUp.status).toBe(200);
});
afterAll(async () => {
  await first?.close();
  await second?.close();
  await database?.close();
  await gateway?.close();
});

const signIn = async (platform: TestPlatform, email: string, password: string, address: string) =>
  platform.app.request(`${TEST_ORIGIN}/auth/v1/token?grant_type=password`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-forwarded-for": address },
    body: JSON.stringify({ email, password }),
  });

describe("sign-in throttling", () => {
  it("refuses a flood from one address without hashing it, and lets the owner in from another address at once", async () => {
    const hashedBefore = hashing.stats().completed;
    const flood = Promise.all(Array.from({ length: 200 }, () => signIn(first, "victim@example.com", "wrong password!", "203.0.113.9")));
    // The platform keeps answering while the flood is refused.
    const health = await first.app.request(`${TEST_ORIGIN}/api/health`);
    const answers = await flood;
    expect(JSON.parse(await health.text())).toHaveProperty("status");
    const statuses = answers.map((answer) => answer.status);
    const wrong = statuses.filter((status) => status === 400).length;
    expect(wrong).toBe(SIGN_IN_GUARD_DEFAULTS.perAccountAddress.limit);
    expect(statuses.filter((status) => status === 429)).toHaveLength(200 - wrong);
    const refused = answers.find((answer) => answer.status === 429)!;
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await errorOf(refused)).code).toBe("rate_limited");
    // Only the admitted attempts were hashed, never more than two at a time (libuv keeps two of
    // its four threads for file and DNS work).
    expect(hashing.stats().completed - hashedBefore).toBe(wrong);
    expect(hashing.stats().maxRunning).toBeLessThanOrEqual(2);

    // The owner, from their own address, on either process: in at once.
    expect((await signIn(first, "victim@example.com", PASSWORD, "198.51.100.1")).status).toBe(200);
    expect((await signIn(second, "victim@example.com", PASSWORD, "198.51.100.2")).status).toBe(200);
    // The flooding address stays refused on every process, even with the right password.
    expect((await signIn(second, "victim@example.com", PASSWORD, "203.0.113.9")).status).toBe(429);
  });

  it("tells supabase-js users readably when to try again", async () => {
    const viaFloodedAddress: typeof fetch = (input, init) =>
      second.fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), "x-forwarded-for": "203.0.113.9" } });
    const result = await createClient(TEST_ORIGIN, "embedded", { auth: { persistSession: false, autoRefreshToken: false }, global: { fetch: viaFloodedAddress } }).auth.signInWithPassword({
      email: "victim@example.com",
      password: PASSWORD,
    });
    expect(result.error?.status).toBe(429);
    expect(result.error?.message).toMatch(/Too many sign-in attempts from your network; try again in \d+ minutes?/);
  });

  it("limits the 6-digit codes typed for one address, so a code cannot be worn down by asking for new ones", async () => {
    const verify = async (address: string) =>
      first.app.request(`${TEST_ORIGIN}/auth/v1/verify`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": address },
        body: JSON.stringify({ type: "signup", email: "victim@example.com", token: "000000" }),
      });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < CODE_GUARD_DEFAULTS.perEmail.limit + 1; attempt += 1) statuses.push((await verify(`198.51.100.${10 + attempt}`)).status);
    // Each from another address: the per-email count is what stops the eleventh.
    expect(statuses).toEqual([...Array<number>(CODE_GUARD_DEFAULTS.perEmail.limit).fill(403), 429]);
  });

  it("counts an unknown account like a known one, so a refusal tells nothing", async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => signIn(first, "nobody@example.com", "whatever123", "192.0.2.7")));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses).toEqual([400, 400, 400, 400, 400, 429, 429, 429]);
  });
});
