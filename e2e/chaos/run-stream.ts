/**
 * Reads a platform's SSE run stream the way a browser's chat does: events by `seq` (the SSE id,
 * so a resume sends Last-Event-ID), the reply text, and how the stream ended: with run-end, or
 * cut (the connection closed without it), or stalled (no event for `stallMs` while heartbeats
 * may still arrive).
 */
import { RunEvent, SseParser } from "@workforce/protocol";

export interface StreamState {
  runId: string | undefined;
  /** Highest seq received (0: none), sent as Last-Event-ID on a resume. */
  lastSeq: number;
  text: string;
  end: { status: string; code: string | undefined } | undefined;
  /** Events that arrived with a seq already seen (a resume that replayed too much): shown twice to a user. */
  repeatedEvents: number;
}

export type StreamOutcome =
  | { kind: "ended" }
  | { kind: "cut"; reason: string }
  | { kind: "stalled" }
  | { kind: "refused"; status: number; code: string | undefined };

export function newStreamState(): StreamState {
  return { runId: undefined, lastSeq: 0, text: "", end: undefined, repeatedEvents: 0 };
}

/** Parses an error body `{ error: { code } }`, or undefined. */
function errorCode(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/**
 * Sends `request` and follows its SSE answer into `state` until run-end, a cut, or a stall.
 * Never rejects: a connection that fails before an answer is `cut` (status 0).
 */
export async function followRunStream(url: string, init: RequestInit, state: StreamState, stallMs: number): Promise<StreamOutcome> {
  const controller = new AbortController();
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, stallMs);
  };
  arm();
  try {
    const response = await fetch(url, { ...init, signal: controller.signal });
    if (response.status !== 200) {
      const body = await response.text();
      return { kind: "refused", status: response.status, code: errorCode(body) };
    }
    state.runId ??= response.headers.get("x-run-id") ?? undefined;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const reader = response.body!.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return state.end ? { kind: "ended" } : { kind: "cut", reason: "closed without run-end" };
      for (const message of parser.push(decoder.decode(value, { stream: true }))) {
        const event = RunEvent.parse(JSON.parse(message.data));
        if (event.seq <= state.lastSeq) {
          state.repeatedEvents += 1;
          continue;
        }
        state.lastSeq = event.seq;
        arm();
        if (event.type === "run-start") state.runId ??= event.runId;
        else if (event.type === "text-delta") state.text += event.delta;
        else if (event.type === "run-end") state.end = { status: event.status, code: event.error?.code };
      }
      if (state.end) {
        await reader.cancel().catch(() => undefined);
        return { kind: "ended" };
      }
    }
  } catch (error) {
    if (stalled) return { kind: "stalled" };
    if (state.end) return { kind: "ended" };
    return { kind: "cut", reason: error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
