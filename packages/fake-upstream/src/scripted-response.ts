/** Why a scripted turn stopped; mapped to `finish_reason` for the OpenAI format. */
export type TextStopReason = "end_turn" | "max_tokens" | "stop_sequence";

/** Token counts reported to the client instead of the fake's estimates. */
export interface UsageOverride {
  /** Reported input (prompt) tokens. Default: request body bytes / 4, at least 1. */
  inputTokens?: number;
  /** Reported output (completion) tokens. Default: number of streamed pieces, at least 1. */
  outputTokens?: number;
}

/** How the reply text is streamed; shared by every script that produces text. */
export interface StreamShape {
  /** Number of stream deltas the text is cut into. Default: the server's `tokens` option. */
  tokens?: number;
  /** Delay before each delta, in milliseconds; 0 writes the whole stream at once. Default: the server's `tokenDelayMs`. */
  delayMs?: number;
  /** Reported usage, for metering tests. */
  usage?: UsageOverride;
}

/** A single tool call the fake assistant makes. */
export interface ToolCallScript {
  /** Tool name, as declared in the request's `tools`. */
  name: string;
  /** Arguments object; streamed as JSON in a few pieces. */
  input: Record<string, unknown>;
  /** Call id. Default: `toolu_fake_<n>` (Anthropic) or `call_fake_<n>` (OpenAI). */
  id?: string;
}

/** The assistant replies with text. */
export interface TextScript extends StreamShape {
  kind: "text";
  /** The full reply; split into `tokens` deltas when streaming. */
  text: string;
  /** Default `end_turn`. */
  stopReason?: TextStopReason;
}

/** The assistant calls a tool (stop_reason `tool_use`, finish_reason `tool_calls`). */
export interface ToolUseScript extends StreamShape, ToolCallScript {
  kind: "tool_use";
  /** Optional text block streamed before the tool call. */
  text?: string;
  /** Further tool calls in the same turn (parallel tool use). */
  parallel?: readonly ToolCallScript[];
}

/** The HTTP request fails with `status` and the provider's real error body. */
export interface StatusScript {
  kind: "status";
  /** Any HTTP status; 401, 429, 500 and 529 get the provider's usual error type and message. */
  status: number;
  /** Sets the `retry-after` header (seconds, fractions allowed so tests stay fast). */
  retryAfterSeconds?: number;
  /** Replaces the whole JSON error body. */
  body?: unknown;
  /** Replaces the error message inside the standard body. */
  message?: string;
}

/** Text is streamed, then a fault happens after `afterTokens` deltas. Non-streaming requests get the equivalent failure. */
export interface MidStreamFaultScript extends StreamShape {
  /**
   * `overloaded-mid-stream`: an `overloaded_error` error event, then the stream ends.
   * `reset-mid-stream`: the TCP connection is closed without finishing the response body.
   * `malformed`: an event whose data is not valid JSON, then the stream ends.
   */
  kind: "overloaded-mid-stream" | "reset-mid-stream" | "malformed";
  /** Deltas written before the fault. */
  afterTokens: number;
  /** Text streamed before the fault. Default: the default responder's text. */
  text?: string;
}

/** Text is streamed, then the server goes silent. */
export interface StallScript extends StreamShape {
  kind: "stall";
  /** Deltas written before the stall. */
  afterTokens: number;
  /** How long to stay silent before finishing normally. Default: forever (until the client or `close()` hangs up). */
  stallMs?: number;
  /** Text streamed around the stall. Default: the default responder's text. */
  text?: string;
}

/** One scripted model reply, consumed by one model request. */
export type ScriptedResponse = TextScript | ToolUseScript | StatusScript | MidStreamFaultScript | StallScript;
