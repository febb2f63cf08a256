import { AgentInput, SendMessageInput } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { LIMITS, textProblem } from "./limits";

describe("limits checked before sending", () => {
  it("are the server's own, read from the shared schemas", () => {
    expect(LIMITS.message).toBe(100_000);
    expect(SendMessageInput.safeParse({ message: "x".repeat(LIMITS.message) }).success).toBe(true);
    expect(SendMessageInput.safeParse({ message: "x".repeat(LIMITS.message + 1) }).success).toBe(false);
    expect(AgentInput.safeParse({ name: "n".repeat(LIMITS.agentName + 1), role: "r" }).success).toBe(false);
    expect(LIMITS.agentPersona).toBe(8000);
  });

  it("say what is wrong in words, with the numbers readable", () => {
    expect(textProblem("   ", { label: "Title", max: 10, required: true })).toBe("Title is required.");
    expect(textProblem("x".repeat(100_250), { label: "Your message", max: 100_000 })).toBe("Your message is 100,250 characters long; the limit is 100,000. Shorten it by 250.");
    expect(textProblem("fine", { label: "Title", max: 10, required: true })).toBeUndefined();
  });
});
