import { z } from "zod";
import type { ScriptedResponse } from "./scripted-response";

/** A script requested from inside a user message, for tests that cannot reach the fake's API. */
export interface MagicToken {
  /** The script to play. */
  script: ScriptedResponse;
  /** Play it only for the first `times` requests carrying the same message text; undefined = every time. */
  times: number | undefined;
}

const faultPattern = /\[\[fault:([a-z0-9.:]+?)(?:\*(\d+))?\]\]/;
const toolPattern = /\[\[tool:([\w.-]+)(?::(\{.*\}))?\]\]/s;
const anyTokenPattern = /\[\[(?:fault|tool):.*?\]\](?!\])/gs;

const toolInput = z.record(z.string(), z.unknown());

/**
 * Finds a magic token in a user message. Grammar (see README):
 * `[[fault:<status>[:<retryAfterSeconds>]]]`, `[[fault:overloaded|reset|malformed[:<afterTokens>]]]`,
 * `[[fault:stall[:<afterTokens>[:<stallMs>]]]]`, each optionally suffixed `*<times>`;
 * `[[tool:<name>[:<json object>]]]`. Unknown or malformed tokens are ignored.
 */
export function parseMagicToken(text: string): MagicToken | undefined {
  if (!text.includes("[[")) return undefined;
  const fault = faultPattern.exec(text);
  if (fault?.[1] !== undefined) {
    const script = parseFault(fault[1]);
    if (script) return { script, times: fault[2] === undefined ? undefined : Number(fault[2]) };
  }
  const tool = toolPattern.exec(text);
  if (tool?.[1] !== undefined) {
    const input = tool[2] === undefined ? {} : parseToolInput(tool[2]);
    if (input) return { script: { kind: "tool_use", name: tool[1], input }, times: undefined };
  }
  return undefined;
}

/** Removes magic tokens so the echoed reply reads naturally. */
export function stripMagicTokens(text: string): string {
  return text.includes("[[") ? text.replace(anyTokenPattern, "").replace(/\s{2,}/g, " ").trim() : text;
}

function parseFault(spec: string): ScriptedResponse | undefined {
  const [head, first, second] = spec.split(":");
  const firstNumber = first === undefined || first === "" ? undefined : Number(first);
  const secondNumber = second === undefined || second === "" ? undefined : Number(second);
  if (Number.isNaN(firstNumber) || Number.isNaN(secondNumber)) return undefined;
  if (head !== undefined && /^\d{3}$/.test(head)) {
    return { kind: "status", status: Number(head), ...(firstNumber === undefined ? {} : { retryAfterSeconds: firstNumber }) };
  }
  const afterTokens = firstNumber ?? 1;
  switch (head) {
    case "overloaded":
      return { kind: "overloaded-mid-stream", afterTokens };
    case "reset":
      return { kind: "reset-mid-stream", afterTokens };
    case "malformed":
      return { kind: "malformed", afterTokens };
    case "stall":
      return { kind: "stall", afterTokens, ...(secondNumber === undefined ? {} : { stallMs: secondNumber }) };
    default:
      return undefined;
  }
}

function parseToolInput(json: string): Record<string, unknown> | undefined {
  try {
    const parsed = toolInput.safeParse(JSON.parse(json));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
