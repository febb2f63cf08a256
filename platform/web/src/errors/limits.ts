import { AgentInput, SendMessageInput, SessionUpdate } from "@workforce/protocol";
import type { z } from "zod";

/** The longest string a schema accepts, read from the schema itself (through optional/default wrappers). */
export function maxLengthOf(schema: z.ZodType): number {
  let current: unknown = schema;
  for (let depth = 0; depth < 5; depth += 1) {
    const candidate = current as { maxLength?: unknown; unwrap?: () => unknown; def?: { innerType?: unknown } };
    if (typeof candidate.maxLength === "number") return candidate.maxLength;
    current = candidate.def?.innerType ?? candidate.unwrap?.();
    if (current === undefined) break;
  }
  throw new Error("maxLengthOf: the schema has no maximum length");
}

/**
 * The limits the server enforces, taken from the shared schemas that enforce them, so a form can
 * say "too long" before sending instead of showing the server's refusal afterwards.
 */
export const LIMITS = {
  message: maxLengthOf(SendMessageInput.shape.message),
  agentName: maxLengthOf(AgentInput.shape.name),
  agentRole: maxLengthOf(AgentInput.shape.role),
  agentPersona: maxLengthOf(AgentInput.shape.persona),
  agentInstructions: maxLengthOf(AgentInput.shape.instructions),
  sessionTitle: maxLengthOf(SessionUpdate.shape.title),
} as const;

const count = new Intl.NumberFormat();

/** What is wrong with a text field's value before it is sent, or undefined when it may be sent. */
export function textProblem(value: string, options: { label: string; max: number; required?: boolean }): string | undefined {
  if (options.required && value.trim() === "") return `${options.label} is required.`;
  if (value.length > options.max) {
    return `${options.label} is ${count.format(value.length)} characters long; the limit is ${count.format(options.max)}. Shorten it by ${count.format(value.length - options.max)}.`;
  }
  return undefined;
}

/** What is wrong with an email address before it is sent (the server checks it again), or undefined. */
export function emailProblem(value: string, label = "Email address"): string | undefined {
  const email = value.trim();
  if (email === "") return `${label} is required.`;
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) return `${label} must look like name@example.com.`;
  return undefined;
}
