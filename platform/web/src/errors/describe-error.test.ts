import { ERROR_CODES, type ErrorCode } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { describeError, isRetryable } from "./describe-error";
import { ERROR_TEXTS, type ErrorText } from "./error-texts";
import { fieldProblems } from "./field-messages";

const NOW = Date.parse("2026-12-03T12:00:00.000Z");

describe("the error mapping", () => {
  it("has a sentence and a next step for every code the server can send, with no machine words in them", () => {
    for (const code of ERROR_CODES) {
      const entry = ERROR_TEXTS[code];
      expect(entry.sentence, code).toMatch(/^[A-Z].*[.!?]$/);
      expect(entry.next, code).toMatch(/^[A-Z].*[.!?]$/);
      // No snake_case codes, env var names, URLs or validator wording leak into what users read.
      expect(`${entry.sentence} ${entry.next}`, code).not.toMatch(/[a-z]+_[a-z]+|[A-Z]{3,}_[A-Z]+|https?:\/\/[a-z]|expected string|Too (small|big)/);
    }
    expect(Object.keys(ERROR_TEXTS).sort()).toEqual([...ERROR_CODES].sort());
  });

  it("says what happened and what to do instead of the code and the server's message", () => {
    const human = describeError({ code: "agent_exists", message: 'agent "ada" already exists' });
    expect(human.sentence).toBe("An agent with this name already exists.");
    expect(human.next).toBe("Choose another name.");
    expect(human.code).toBe("agent_exists");
    expect(human.details).toBe('agent "ada" already exists');
  });

  it("turns validator text into a sentence about the field", () => {
    expect(describeError({ code: "validation_failed", message: "email: is required" }).sentence).toBe("Email is required.");
    expect(describeError({ code: "validation_failed", message: "title: Too small: expected string to have >=1 characters" }).sentence).toBe("Title is required.");
    expect(describeError({ code: "validation_failed", message: "name: Too big: expected string to have <=80 characters" }).sentence).toBe(
      "Name must be at most 80 characters long.",
    );
    const several = describeError({ code: "validation_failed", message: "displayName: Invalid input: expected string, received number; limits.monthlyTokens: must be at least 1" });
    expect(several.sentence).toBe("Some of what you entered is not valid.");
    expect(several.fields.map((field) => field.message)).toEqual(["Display name is not valid.", "Monthly tokens must be at least 1."]);
  });

  it("keeps the general sentence when the validator named no field", () => {
    expect(fieldProblems("Invalid input")).toEqual([]);
    expect(describeError({ code: "validation_failed", message: "Invalid input" }).sentence).toBe("Some of what you entered is not valid.");
  });

  it("says when to try again as a relative time, not in seconds", () => {
    const human = describeError({ code: "rate_limited", message: "Too many sign-in attempts; try again in 833 seconds", retryAfterSeconds: 833 }, NOW);
    expect(human.next).toBe("Try again in 14 minutes.");
    expect(`${human.sentence} ${human.next}`).not.toContain("833");
    // Without the header, the seconds the server's message names.
    expect(describeError({ code: "rate_limited", message: "Too many attempts from this address; try again in 540 seconds" }, NOW).next).toBe("Try again in 9 minutes.");
  });

  it("says when a used-up budget resets, and offers no retry", () => {
    const message =
      "This organisation's monthly token budget is used up (2336 of 1000 tokens since 2026-12-01T00:00:00.000Z); sending resumes on 2027-01-01T00:00:00.000Z, or sooner if an owner or admin raises the budget";
    const human = describeError({ code: "budget_exceeded", message, retryable: false }, NOW);
    expect(human.sentence).toBe("Your organisation has used up its token budget.");
    // The day in the reader's language and time zone ("1 January 2027", "January 1, 2027"), never the ISO timestamp.
    expect(human.next).toMatch(/^Ask an owner or admin to raise the budget\. It resets on (.*January.*2027|.*December.*)\.$/);
    expect(human.next).not.toContain("T00:00");
    expect(human.retryable).toBe(false);
    // Nearly used up by runs in flight: retrying shortly can work.
    expect(describeError({ code: "budget_exceeded", message: "nearly used up", retryable: true }, NOW).retryable).toBe(true);
  });

  it("offers Retry only for errors that can succeed when repeated", () => {
    expect(isRetryable({ code: "budget_exceeded" })).toBe(false);
    expect(isRetryable({ code: "agent_not_found" })).toBe(false);
    expect(isRetryable({ code: "provider_overloaded" })).toBe(true);
    expect(isRetryable({ code: "network_error" })).toBe(true);
    // The server's own flag wins over the code's default.
    expect(isRetryable({ code: "provider_overloaded", retryable: false })).toBe(false);
    expect(isRetryable({ code: "something_new" })).toBe(false);
  });

  it("reads HTTP answers without our error shape by their status class", () => {
    expect(describeError({ code: "http_502", message: "HTTP 502: Bad Gateway" }).sentence).toBe("The server could not answer just now.");
    expect(describeError({ code: "http_404", message: "HTTP 404: nope" }).sentence).toBe("The server refused the request.");
  });

  it("keeps the message of an error the app raised itself, and a sentence a screen wrote for the case", () => {
    expect(describeError({ message: "Choose a file first." }).sentence).toBe("Choose a file first.");
    expect(describeError({ code: "otp_expired", message: "x", sentence: "This confirmation link has expired." }).sentence).toBe("This confirmation link has expired.");
  });
});

describe("the mapping's type", () => {
  it("refuses a table that misses a code (a new code without a sentence fails the typecheck)", () => {
    // @ts-expect-error -- every ErrorCode needs an entry; this table has one.
    const incomplete: Record<ErrorCode, ErrorText> = { internal_error: ERROR_TEXTS.internal_error };
    expect(Object.keys(incomplete)).toHaveLength(1);
  });
});
