import type { OutgoingHttpHeaders, ServerResponse } from "node:http";
import type { StreamFault } from "./plan-turn";

/** setTimeout cannot represent longer delays; treat them as "never". */
const maxTimerMs = 2 ** 31 - 1;

/** A protocol's rendering of one turn as server-sent-event text. */
export interface StreamFrames {
  /** Written at once before the first token (e.g. `message_start`, `content_block_start`, `ping`). */
  head: string;
  /** One entry per output token, each with any block boundaries that precede it. */
  steps: string[];
  /** Written after the last token (e.g. `message_delta`, `message_stop`, `[DONE]`). */
  tail: string;
  /** Written for `overloaded-mid-stream` before the stream ends. */
  errorFrame: string;
  /** Written for `malformed` before the stream ends. */
  malformedFrame: string;
}

/** Writes `frames` with `delayMs` between tokens, injecting `fault` after its token count. Headers must already be set. */
export function writeStream(response: ServerResponse, frames: StreamFrames, delayMs: number, fault: StreamFault | undefined): void {
  const { steps } = frames;
  let index = 0;
  let pendingFault = fault;
  let buffer = frames.head;
  let timer: NodeJS.Timeout | undefined;
  response.once("close", () => clearTimeout(timer));

  const flush = (): void => {
    if (buffer !== "") response.write(buffer);
    buffer = "";
  };
  const wait = (ms: number): void => {
    flush();
    if (ms <= maxTimerMs) timer = setTimeout(run, ms);
  };
  function run(): void {
    while (!response.destroyed) {
      if (pendingFault && index === Math.min(pendingFault.afterTokens, steps.length)) {
        const current = pendingFault;
        pendingFault = undefined;
        if (current.kind === "stall") return wait(current.stallMs);
        return endWithFault(response, current.kind, buffer, frames);
      }
      const step = steps[index];
      if (step === undefined) {
        response.end(buffer + frames.tail);
        return;
      }
      buffer += step;
      index += 1;
      if (delayMs > 0) return wait(delayMs);
    }
  }

  if (delayMs > 0) wait(delayMs);
  else run();
}

function endWithFault(response: ServerResponse, kind: Exclude<StreamFault["kind"], "stall">, buffer: string, frames: StreamFrames): void {
  if (kind === "overloaded-mid-stream") response.end(buffer + frames.errorFrame);
  else if (kind === "malformed") response.end(buffer + frames.malformedFrame);
  else if (buffer === "") response.socket?.destroy();
  else response.write(buffer, () => response.socket?.destroy());
}

/** What a protocol sends for a non-streaming reply, depending on the fault. */
export interface OnceReplies {
  ok: () => void;
  overloaded: () => void;
  malformed: () => void;
}

/**
 * Delivers a non-streaming reply after the time streaming would have taken (`delayMs` per token).
 * Faults map to their non-streaming equivalents: overloaded → error status, reset → connection closed
 * without a response, stall → the reply is held `stallMs` longer, malformed → a 200 whose body is not JSON.
 */
export function deliverOnce(response: ServerResponse, tokens: number, delayMs: number, fault: StreamFault | undefined, replies: OnceReplies): void {
  const tokensBefore = fault && fault.kind !== "stall" ? Math.min(fault.afterTokens, tokens) : tokens;
  const totalMs = tokensBefore * delayMs + (fault?.kind === "stall" ? fault.stallMs : 0);
  const deliver = (): void => {
    if (response.destroyed) return;
    if (fault?.kind === "overloaded-mid-stream") replies.overloaded();
    else if (fault?.kind === "malformed") replies.malformed();
    else if (fault?.kind === "reset-mid-stream") response.socket?.destroy();
    else replies.ok();
  };
  if (totalMs <= 0) return deliver();
  if (totalMs > maxTimerMs) return;
  const timer = setTimeout(deliver, totalMs);
  response.once("close", () => clearTimeout(timer));
}

/** Sends a complete JSON (or, for fault injection, raw text) response. */
export function sendJson(response: ServerResponse, status: number, headers: OutgoingHttpHeaders, body: unknown, raw = false): void {
  const text = raw ? String(body) : JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** One rendered event; `token` marks the events that carry an output token. */
export interface RenderedFrame {
  text: string;
  token: boolean;
}

/** Groups rendered events into head / per-token steps / tail, keeping block boundaries with the token they precede. */
export function groupFrames(frames: readonly RenderedFrame[], errorFrame: string, malformedFrame: string): StreamFrames {
  let head: string | undefined;
  const steps: string[] = [];
  let pending = "";
  for (const frame of frames) {
    if (!frame.token) {
      pending += frame.text;
      continue;
    }
    if (head === undefined) {
      head = pending;
      pending = "";
    }
    steps.push(pending + frame.text);
    pending = "";
  }
  if (head === undefined) return { head: pending, steps, tail: "", errorFrame, malformedFrame };
  return { head, steps, tail: pending, errorFrame, malformedFrame };
}
