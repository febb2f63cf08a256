import { AppError } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { createRateLimiter, type RateLimiter } from "../limits/rate-limiter";
import { openTestDatabase } from "../test-support/test-platform";
import { createEmailRequestGuard } from "./email-request-guard";
import { createSignUpGuard } from "./sign-up-guard";

const databaseUrl = process.env.DATABASE_URL;
let database: OpenDatabase;
let clock: Date;
let limiter: RateLimiter;

beforeAll(async () => {
  database = await openTestDatabase();
  limiter = createRateLimiter({ system: database.system, now: () => clock });
});
afterAll(async () => {
  await database?.close();
});

async function outcome(admission: Promise<void>): Promise<"admitted" | AppError> {
  try {
    await admission;
    return "admitted";
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
}

describe(`sign-up and email-request guards (${databaseUrl ? "Postgres" : "PGlite"})`, () => {
  it("admits 10 sign-ups per address and hour, however many arrive at once", async () => {
    clock = new Date("2030-03-01T00:00:00Z");
    const guard = createSignUpGuard({ limiter });
    const outcomes = await Promise.all(Array.from({ length: 30 }, () => outcome(guard.admit({ address: "203.0.113.50" }))));
    expect(outcomes.filter((item) => item === "admitted")).toHaveLength(10);
    expect(outcomes.find((item) => item !== "admitted")).toMatchObject({
      code: "rate_limited",
      status: 429,
      headers: { "retry-after": "3600" },
      message: "Too many sign-ups from your network; try again in 60 minutes",
    });
    expect(await outcome(guard.admit({ address: "203.0.113.51" }))).toBe("admitted");
    clock = new Date(clock.getTime() + 60 * 60_000);
    expect(await outcome(guard.admit({ address: "203.0.113.50" }))).toBe("admitted");
  });

  it("sends one email of a kind per recipient and minute, whoever asks", async () => {
    clock = new Date("2030-03-02T00:00:00Z");
    const guard = createEmailRequestGuard({ limiter });
    expect(await outcome(guard.admit({ email: "ada@example.com", address: "198.51.100.1", purpose: "password-reset" }))).toBe("admitted");
    const again = await outcome(guard.admit({ email: " ADA@example.com", address: "198.51.100.2", purpose: "password-reset" }));
    expect(again).toMatchObject({ code: "rate_limited", headers: { "retry-after": "60" }, message: "An email like this was sent to this address a moment ago; try again in 1 minute" });
    // Another kind of mail is counted apart.
    expect(await outcome(guard.admit({ email: "ada@example.com", address: "198.51.100.1", purpose: "confirmation" }))).toBe("admitted");
    clock = new Date(clock.getTime() + 60_000);
    expect(await outcome(guard.admit({ email: "ada@example.com", address: "198.51.100.1", purpose: "password-reset" }))).toBe("admitted");
  });

  it("admits 20 email requests per address and hour, whatever the recipients", async () => {
    clock = new Date("2030-03-03T00:00:00Z");
    const guard = createEmailRequestGuard({ limiter });
    const outcomes = [];
    for (let index = 0; index < 22; index += 1) outcomes.push(await outcome(guard.admit({ email: `user${index}@example.com`, address: "192.0.2.30", purpose: "password-reset" })));
    expect(outcomes.filter((item) => item === "admitted")).toHaveLength(20);
    expect(outcomes[21]).toMatchObject({ code: "rate_limited", message: "Too many email requests from your network; try again in 60 minutes" });
  });
});
