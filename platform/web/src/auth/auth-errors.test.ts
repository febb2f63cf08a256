import { AuthApiError, AuthRetryableFetchError, AuthWeakPasswordError } from "@supabase/supabase-js";
import { describe, expect, it } from "vitest";
import { describeAuthError } from "./auth-errors";

describe("auth errors as the user reads them", () => {
  it("turns the codes written for developers into a sentence, keeping the code", () => {
    // The server's message stays for the "Details" disclosure; the sentence is what the user reads.
    expect(describeAuthError(new AuthApiError("Email not confirmed: open the link we emailed you", 403, "email_not_confirmed"))).toEqual({
      code: "email_not_confirmed",
      message: "Email not confirmed: open the link we emailed you",
      sentence: "Confirm your email first: open the link we emailed you, or ask for a new one.",
    });
    expect(describeAuthError(new AuthApiError("Invalid login credentials", 400, "invalid_credentials"))).toEqual({
      code: "invalid_credentials",
      message: "Invalid login credentials",
      sentence: "Wrong email or password.",
    });
    expect(describeAuthError(new AuthApiError("Token has expired or is invalid", 403, "otp_expired")).sentence).toMatch(/expired or was already used/);
  });

  it("keeps the server's own message where it already says what to do", () => {
    const limited = new AuthApiError("Too many attempts from this address; try again in 540 seconds", 429, "rate_limited");
    expect(describeAuthError(limited)).toEqual({ code: "rate_limited", message: "Too many attempts from this address; try again in 540 seconds" });
    const closed = new AuthApiError("Sign-up on this installation needs an invitation: open the link in the invitation email", 403, "signup_disabled");
    expect(describeAuthError(closed).message).toBe("Sign-up on this installation needs an invitation: open the link in the invitation email");
    expect(describeAuthError(new AuthWeakPasswordError("Password should be at least 8 characters", 422, ["length"])).message).toBe(
      "Password should be at least 8 characters",
    );
  });

  it("explains a bodiless 503 (mail could not be sent) and an unreachable server instead of printing {}", () => {
    expect(describeAuthError(new AuthRetryableFetchError("{}", 503))).toMatchObject({ code: "unavailable", message: expect.stringMatching(/try again in a minute/i) });
    expect(describeAuthError(new AuthRetryableFetchError("Failed to fetch", 0))).toMatchObject({ code: "network_error", message: expect.stringMatching(/could not reach/i) });
  });

  it("unwraps a JSON error body left in the message", () => {
    expect(describeAuthError({ message: JSON.stringify({ error: { code: "x", message: "The inner message" } }) }).message).toBe("The inner message");
  });
});
