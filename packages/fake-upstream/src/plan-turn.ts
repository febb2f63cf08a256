import type { ModelRequest } from "./model-request";
import type { ScriptedResponse, StatusScript, StreamShape, TextStopReason, ToolCallScript } from "./scripted-response";
import { splitJson, splitTokens } from "./split-tokens";
import { stripMagicTokens } from "./magic-tokens";

/** A tool call ready to be written in either protocol. */
export interface PlannedToolCall {
  id: string | undefined;
  name: string;
  input: Record<string, unknown>;
  argumentPieces: string[];
}

/** A fault injected into an otherwise normal turn. */
export type StreamFault =
  | { kind: "overloaded-mid-stream" | "reset-mid-stream" | "malformed"; afterTokens: number }
  | { kind: "stall"; afterTokens: number; stallMs: number };

/** A protocol-neutral description of one assistant turn. */
export interface PlannedTurn {
  kind: "turn";
  textPieces: string[];
  toolCalls: PlannedToolCall[];
  stopReason: TextStopReason | "tool_use";
  /** Streamed pieces: text deltas plus tool-argument deltas. */
  tokenCount: number;
  delayMs: number;
  fault: StreamFault | undefined;
  usage: { inputTokens: number; outputTokens: number };
}

/** What the server does with a model request: play a turn or fail with a status. */
export type PlannedReply = PlannedTurn | StatusScript;

/** Server-wide defaults for turns whose script does not say otherwise. */
export interface TurnDefaults {
  text: string | undefined;
  tokens: number | undefined;
  tokenDelayMs: number;
}

/** The default responder's reply text: the fixed text, else a tool-result or echo acknowledgement. */
export function defaultText(request: ModelRequest, defaults: TurnDefaults): string {
  if (defaults.text !== undefined) return defaults.text;
  if (request.toolResultText !== undefined) return `Tool result: ${request.toolResultText}`;
  return `Echo: ${stripMagicTokens(request.lastUserText)}`;
}

/** Turns a script (or the default responder when undefined) into a protocol-neutral plan. */
export function planTurn(script: ScriptedResponse | undefined, request: ModelRequest, defaults: TurnDefaults): PlannedReply {
  if (script?.kind === "status") return script;
  const shape: StreamShape = script ?? {};
  const textPieces = splitTokens(textOf(script, request, defaults), shape.tokens ?? defaults.tokens);
  const toolCalls = script?.kind === "tool_use" ? [script, ...(script.parallel ?? [])].map(planToolCall) : [];
  const streamedPieces = textPieces.length + toolCalls.reduce((sum, call) => sum + call.argumentPieces.length, 0);
  return {
    kind: "turn",
    textPieces,
    toolCalls,
    stopReason: script?.kind === "tool_use" ? "tool_use" : script?.kind === "text" ? (script.stopReason ?? "end_turn") : "end_turn",
    tokenCount: streamedPieces,
    delayMs: shape.delayMs ?? defaults.tokenDelayMs,
    fault: faultOf(script),
    usage: {
      inputTokens: shape.usage?.inputTokens ?? request.inputTokens,
      outputTokens: shape.usage?.outputTokens ?? Math.max(1, streamedPieces),
    },
  };
}

function textOf(script: Exclude<ScriptedResponse, StatusScript> | undefined, request: ModelRequest, defaults: TurnDefaults): string {
  if (script === undefined) return defaultText(request, defaults);
  if (script.kind === "tool_use") return script.text ?? "";
  return script.text ?? defaultText(request, defaults);
}

function planToolCall(call: ToolCallScript): PlannedToolCall {
  return { id: call.id, name: call.name, input: call.input, argumentPieces: splitJson(JSON.stringify(call.input)) };
}

function faultOf(script: ScriptedResponse | undefined): StreamFault | undefined {
  switch (script?.kind) {
    case "overloaded-mid-stream":
    case "reset-mid-stream":
    case "malformed":
      return { kind: script.kind, afterTokens: script.afterTokens };
    case "stall":
      return { kind: "stall", afterTokens: script.afterTokens, stallMs: script.stallMs ?? Number.POSITIVE_INFINITY };
    default:
      return undefined;
  }
}
