/**
 * Rate limits per API key and per user (issue 11): requests per minute and open streams, shared
 * by two platform instances on one database, refused with 429 rate_limited, Retry-After and the
 * RateLimit-* headers, which successful answers carry too.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, joinAs, openTestDatabase, signUp, type TestPlatform } from "../test-support/test-platform";

const LIMITS = { requestsPerMinute: 20, maxStreams: 2 };

let gateway: FakeGateway;
let database: OpenDatabase;
let first: TestPlatform;
let second: TestPlatform;
let ada: { token: string; userId: string; tenantId: string };
let bob: { token: string; userId: string; tenantId: string };
let releaseRuns!: () => void;

beforeAll(async () => {
  // Runs stay silent (their streams open) until the suite ends.
  const hold = new Promise<void>((resolve) => {
    releaseRuns = resolve;
  });
  gateway = await startFakeGateway({ hold });
  database = await openTestDatabase();
  const parts = { apiLimits: { defaults: LIMITS } };
  first = await createTestPlatform({ gatewayUrl: gateway.url, database, parts });
  second = await createTestPlatform({ gatewayUrl: gateway.url, database, parts });
  ada = await signUp(first, "ada@example.com");
  bob = await joinAs(first, ada, "bob@example.com", "member");
  expect((await caller(first)("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
});
afterAll(async () => {
  releaseRuns?.();
  await first?.close();
  await second?.close();
  await database?.close();
  await gateway?.close();
});

/** A new API key of Ada's organisation (each with a fresh allowance). */
async function newKey(name: string): Promise<string> {
  const response = await caller(first)("POST", "/api/keys", { token: ada.token, body: { name } });
  expect(response.status).toBe(201);
  return ((await response.json()) as { secret: string }).secret;
}

// Always in Ada's organisation (Bob's first one is his own).
const inAdas = () => ({ "x-tenant-id": ada.tenantId });
const listAgents = (platform: TestPlatform, token: string) => caller(platform)("GET", "/api/agents", { token, headers: inAdas() });
const send = (platform: TestPlatform, token: string) => caller(platform)("POST", "/api/agents/ada/messages", { token, headers: inAdas(), body: { message: "Hold on" } });

function rateLimitHeaders(response: Response) {
  return {
    limit: response.headers.get("ratelimit-limit"),
    remaining: response.headers.get("ratelimit-remaining"),
    reset: Number(response.headers.get("ratelimit-reset")),
  };
}

describe("requests per minute", () => {
  it("tells every answer the allowance left, refuses a key over it with 429 and Retry-After, and leaves other keys and users alone", async () => {
    const flooding = await newKey("flooding");
    const patient = await newKey("patient");
    const answers: Response[] = [];
    for (let index = 0; index < LIMITS.requestsPerMinute; index += 1) answers.push(await listAgents(first, flooding));
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: LIMITS.requestsPerMinute }, () => 200));
    expect(rateLimitHeaders(answers[0]!)).toMatchObject({ limit: "20", remaining: "19" });
    expect(rateLimitHeaders(answers.at(-1)!)).toMatchObject({ limit: "20", remaining: "0" });
    expect(rateLimitHeaders(answers[0]!).reset).toBeGreaterThan(0);
    expect(rateLimitHeaders(answers[0]!).reset).toBeLessThanOrEqual(60);

    const refused = await listAgents(first, flooding);
    expect(await errorOf(refused.clone())).toMatchObject({ status: 429, code: "rate_limited", message: expect.stringMatching(/API key.*20 a minute.*try again in/) });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(rateLimitHeaders(refused)).toMatchObject({ limit: "20", remaining: "0" });
    expect(rateLimitHeaders(refused).reset).toBe(retryAfter);

    // Another key of the same organisation, its owner and another member keep working.
    for (const token of [patient, ada.token, bob.token]) {
      const answer = await listAgents(first, token);
      expect(answer.status).toBe(200);
      expect(answer.headers.get("ratelimit-limit")).toBe("20");
    }
  });

  it("shares one allowance between two platform instances on one database", async () => {
    const key = await newKey("roaming");
    const statuses: number[] = [];
    for (let index = 0; index < 30; index += 1) statuses.push((await listAgents(index % 2 === 0 ? first : second, key)).status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(LIMITS.requestsPerMinute);
    expect(statuses.slice(LIMITS.requestsPerMinute)).toEqual(Array.from({ length: 10 }, () => 429));
  });

  it("counts a user in one organisation as such: error answers carry the headers, and browsers may read them", async () => {
    const answer = await caller(second)("GET", "/api/agents/nobody", { token: bob.token, headers: { ...inAdas(), origin: "http://web.example" } });
    expect(answer.status).toBe(404);
    expect(answer.headers.get("ratelimit-limit")).toBe("20");
    expect(answer.headers.get("access-control-expose-headers")).toMatch(/ratelimit-remaining/i);
  });
});

describe("open streams", () => {
  it("refuses a stream beyond the limit on either instance, and a closed stream lets the next one in", async () => {
    const key = await newKey("streaming");
    const open = [await send(first, key), await send(second, key)];
    expect(open.map((response) => response.status)).toEqual([200, 200]);
    expect(open[0]!.headers.get("content-type")).toMatch(/text\/event-stream/);

    for (const platform of [first, second]) {
      const refused = await send(platform, key);
      expect(await errorOf(refused.clone())).toMatchObject({ status: 429, code: "rate_limited", message: expect.stringMatching(/open streams for this API key \(at most 2\)/) });
      expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    }
    // Following a run counts as a stream too.
    const runId = open[0]!.headers.get("x-run-id")!;
    expect((await caller(first)("GET", `/api/runs/${runId}/events`, { token: key })).status).toBe(429);
    // Another user of the organisation has streams of their own.
    const bobs = await send(first, bob.token);
    expect(bobs.status).toBe(200);

    // The client closes one stream: its place is free as soon as the close completes.
    await open[0]!.body!.cancel();
    const next = await send(second, key);
    expect(next.status).toBe(200);
    expect((await send(first, key)).status).toBe(429);

    for (const response of [open[1]!, next, bobs]) await response.body!.cancel();
  });
});
