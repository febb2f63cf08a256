import { AppError } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { createRateLimiter } from "../limits/rate-limiter";
import { openTestDatabase } from "../test-support/test-platform";
import { createHashLimiter, type HashLimiter } from "./hash-limiter";
import { createPasswordHasher, hashPassword, type PasswordHasher } from "./password";
import { createSignInGuard, type SignInGuardOptions } from "./sign-in-guard";

const databaseUrl = process.env.DATABASE_URL;
const PASSWORD = "correct horse battery";

let database: OpenDatabase;
let clock: Date;
let storedHash: string;

beforeAll(async () => {
  database = await openTestDatabase();
  storedHash = await hashPassword(PASSWORD);
});
afterAll(async () => {
  await database?.close();
});

/**
 * Sign-in as the auth service does it, minus sessions: guard first, then the (limited) hash, then
 * `succeeded` on a match. Every test uses its own accounts and addresses, on one database.
 */
function signInFlow(options: Omit<SignInGuardOptions, "limiter"> = {}) {
  const limiter = createRateLimiter({ system: database.system, now: () => clock });
  const guard = createSignInGuard({ limiter, ...options });
  const hashes: HashLimiter = createHashLimiter({ concurrency: 2, maxQueue: 1_000 });
  const hasher: PasswordHasher = createPasswordHasher({ limiter: hashes });
  const accounts = new Map<string, string>();
  return {
    hashes,
    addAccount: (email: string) => accounts.set(email, storedHash),
    async signIn(email: string, password: string, address: string): Promise<"signed-in" | "invalid" | AppError> {
      try {
        const attempt = await guard.admit({ email, address });
        if (!(await hasher.verify(password, accounts.get(email.trim().toLowerCase())))) return "invalid";
        await attempt.succeeded();
        return "signed-in";
      } catch (error) {
        if (error instanceof AppError) return error;
        throw error;
      }
    },
  };
}

const refusals = (outcomes: unknown[]) => outcomes.filter((outcome): outcome is AppError => outcome instanceof AppError);

describe(`sign-in guard (${databaseUrl ? "Postgres" : "PGlite"})`, () => {
  it("refuses a flood from one address without hashing it, and admits the owner from another address at once", async () => {
    clock = new Date("2030-02-01T00:00:00Z");
    const flow = signInFlow();
    flow.addAccount("ada@example.com");

    const outcomes = await Promise.all(Array.from({ length: 200 }, () => flow.signIn("ada@example.com", "wrong guess", "203.0.113.9")));
    // Only the per-account-and-address allowance reached the hasher.
    expect(outcomes.filter((outcome) => outcome === "invalid")).toHaveLength(5);
    expect(flow.hashes.stats().completed).toBe(5);
    const refused = refusals(outcomes);
    expect(refused).toHaveLength(195);
    for (const error of refused) {
      expect(error).toMatchObject({ code: "rate_limited", status: 429, headers: { "retry-after": "900" } });
      expect(error.message).toMatch(/^Too many sign-in attempts (for this account )?from your network; try again in 15 minutes$/);
    }

    expect(await flow.signIn(" Ada@Example.com ", PASSWORD, "198.51.100.20")).toBe("signed-in");
    // The flooding address stays refused, for every account.
    const other = await flow.signIn("someone-else@example.com", "guess", "203.0.113.9");
    expect(other).toMatchObject({ code: "rate_limited", message: "Too many sign-in attempts from your network; try again in 15 minutes" });
    expect(flow.hashes.stats().completed).toBe(6);
  });

  it("counts per address and account, so one address trying many accounts stops at the address limit", async () => {
    clock = new Date("2030-02-02T00:00:00Z");
    const flow = signInFlow();
    const outcomes = [];
    for (let index = 0; index < 25; index += 1) outcomes.push(await flow.signIn(`user${index}@example.com`, "guess", "192.0.2.77"));
    expect(outcomes.filter((outcome) => outcome === "invalid")).toHaveLength(20);
    expect(refusals(outcomes).map((error) => error.message)).toEqual(Array(5).fill("Too many sign-in attempts from your network; try again in 15 minutes"));
    // The unknown accounts were checked against the dummy hash: as costly as a real one.
    expect(flow.hashes.stats().completed).toBe(21);
  });

  it("treats addresses of one IPv6 /64 as one client", async () => {
    clock = new Date("2030-02-03T00:00:00Z");
    const flow = signInFlow({ perAddress: { limit: 3, windowMs: 60_000 } });
    const outcomes = [];
    for (let index = 1; index <= 4; index += 1) outcomes.push(await flow.signIn(`v6-${index}@example.com`, "guess", `2001:db8:5:6::${index.toString(16)}`));
    expect(outcomes.slice(0, 3)).toEqual(["invalid", "invalid", "invalid"]);
    expect(outcomes[3]).toMatchObject({ code: "rate_limited" });
    expect(await flow.signIn("v6-5@example.com", "guess", "2001:db8:5:7::1")).toBe("invalid");
  });

  it("gives an owner who signs in successfully their allowance back", async () => {
    clock = new Date("2030-02-04T00:00:00Z");
    const flow = signInFlow();
    flow.addAccount("grace@example.com");
    for (let round = 0; round < 3; round += 1) {
      for (let attempt = 0; attempt < 4; attempt += 1) expect(await flow.signIn("grace@example.com", "typo", "198.51.100.4")).toBe("invalid");
      expect(await flow.signIn("grace@example.com", PASSWORD, "198.51.100.4")).toBe("signed-in");
    }
  });

  it("slows an account under a distributed attack to one attempt per interval instead of locking it", async () => {
    clock = new Date("2030-02-05T00:00:00Z");
    const flow = signInFlow({ perAccount: { limit: 10, windowMs: 15 * 60_000 }, accountSlowdownMs: 2_000 });
    flow.addAccount("target@example.com");
    let address = 0;
    const nextAddress = () => `10.0.${Math.floor(address / 250)}.${(address++ % 250) + 1}`;

    for (let attempt = 0; attempt < 10; attempt += 1) expect(await flow.signIn("target@example.com", "guess", nextAddress())).toBe("invalid");
    // Past the account-wide threshold, each 2-second interval admits one attempt from all addresses.
    for (let interval = 0; interval < 3; interval += 1) {
      const outcomes = await Promise.all(Array.from({ length: 30 }, () => flow.signIn("target@example.com", "guess", nextAddress())));
      expect(outcomes.filter((outcome) => outcome === "invalid")).toHaveLength(1);
      for (const error of refusals(outcomes)) {
        expect(error).toMatchObject({ code: "rate_limited", headers: { "retry-after": "2" } });
        expect(error.message).toBe("This account is receiving many sign-in attempts, so they are slowed down; try again in 2 seconds");
      }
      clock = new Date(clock.getTime() + 2_000);
    }
    // The owner, from their own address, waits at most one interval.
    expect(await flow.signIn("target@example.com", PASSWORD, "198.51.100.99")).toBe("signed-in");
    expect(flow.hashes.stats().completed).toBe(10 + 3 + 1);
  });
});
