import { ApiErrorBody, RunEvent, SseParser, type RunEndEvent } from "@workforce/protocol";
import { ApiError } from "../api/api-error";

/** How hard to try to keep a run's stream alive. */
export interface ReconnectPolicy {
  /** Consecutive failed attempts before giving up (reset whenever an event arrives). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** No bytes (not even a heartbeat, sent every 15 s) for this long means the connection is dead, e.g. after tab sleep. */
  idleTimeoutMs: number;
}

export const DEFAULT_POLICY: ReconnectPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 8000, idleTimeoutMs: 45_000 };

export type RunOutcome =
  | { kind: "ended"; event: RunEndEvent }
  | { kind: "aborted" }
  | { kind: "failed"; error: ApiError };

export interface FollowRunOptions {
  /** Starts the run (POST); absent when resuming a run we already know. Must be idempotent (it carries an idempotency key). */
  start?: (signal: AbortSignal) => Promise<Response>;
  /** Opens the rest of the run after `lastSeq` (GET /runs/:id/events with Last-Event-ID). */
  reconnect: (runId: string, lastSeq: number, signal: AbortSignal) => Promise<Response>;
  runId?: string;
  lastSeq?: number;
  /** Aborting it ends the stream locally (the caller asks the server to stop the run separately). */
  signal: AbortSignal;
  onRunId(runId: string): void;
  /** Called once per event, in seq order, never twice for the same seq. */
  onEvent(event: RunEvent): void;
  onConnection(state: "connecting" | "streaming" | "reconnecting", attempt: number): void;
  policy?: ReconnectPolicy;
}

class StreamInterrupted extends Error {}

/**
 * Follows one run to its `run-end`, reconnecting with the last seen seq when the stream drops,
 * stalls or ends early. Lives outside React: nothing here depends on render cycles.
 */
export async function followRun(options: FollowRunOptions): Promise<RunOutcome> {
  const policy = options.policy ?? DEFAULT_POLICY;
  let runId = options.runId;
  let lastSeq = options.lastSeq ?? 0;
  let attempt = 0;

  for (;;) {
    if (options.signal.aborted) return { kind: "aborted" };
    const attemptController = linkedController(options.signal);
    try {
      options.onConnection(attempt === 0 ? "connecting" : "reconnecting", attempt);
      let response: Response;
      if (runId === undefined) {
        if (!options.start) throw new ApiError("run_not_found", "No run to follow.", 404);
        response = await options.start(attemptController.signal);
        const headerRunId = response.headers.get("X-Run-Id");
        if (headerRunId) {
          runId = headerRunId;
          options.onRunId(runId);
        }
      } else {
        response = await options.reconnect(runId, lastSeq, attemptController.signal);
      }
      options.onConnection("streaming", 0);

      const end = await readEvents(response, attemptController, policy.idleTimeoutMs, (event) => {
        if (event.seq <= lastSeq) return;
        if (runId === undefined) {
          runId = event.runId;
          options.onRunId(runId);
        }
        lastSeq = event.seq;
        attempt = 0;
        options.onEvent(event);
      });
      if (end) return { kind: "ended", event: end };
      throw new StreamInterrupted("the stream closed before the run ended");
    } catch (error) {
      if (options.signal.aborted) return { kind: "aborted" };
      if (error instanceof ApiError && !isRetryable(error, runId !== undefined)) return { kind: "failed", error };
      attempt += 1;
      if (attempt > policy.maxAttempts) {
        const detail = error instanceof Error ? error.message : String(error);
        return {
          kind: "failed",
          error: new ApiError("stream_lost", `Lost the connection to the reply and could not get it back (${detail}).`, 0, true),
        };
      }
      options.onConnection("reconnecting", attempt);
      await sleep(backoff(policy, attempt), options.signal);
    } finally {
      attemptController.abort();
    }
  }
}

/**
 * Network failures are retried; an HTTP error while starting the run is final (the request was
 * answered), while reconnecting a server hiccup (5xx, 429) is worth another try.
 */
function isRetryable(error: ApiError, reconnecting: boolean): boolean {
  if (error.status === 0) return true;
  if (!reconnecting) return false;
  return error.status >= 500 || error.status === 429 || error.status === 408;
}

function backoff(policy: ReconnectPolicy, attempt: number): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return exponential / 2 + Math.random() * (exponential / 2);
}

/** Reads SSE frames until `run-end` (returned) or the body ends (undefined). */
async function readEvents(
  response: Response,
  controller: AbortController,
  idleTimeoutMs: number,
  onEvent: (event: RunEvent) => void,
): Promise<RunEndEvent | undefined> {
  if (!response.body) throw new StreamInterrupted("the response has no body");
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Cancelling the reader ends a pending read at once, whether or not the fetch implementation ties the body to the signal.
  const stop = () => void reader.cancel(controller.signal.reason).catch(() => undefined);
  if (controller.signal.aborted) stop();
  controller.signal.addEventListener("abort", stop, { once: true });
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new StreamInterrupted("no data for a while")), idleTimeoutMs);
  };
  try {
    arm();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return undefined;
      arm();
      for (const message of parser.push(decoder.decode(value, { stream: true }))) {
        const json = parseJson(message.data);
        if (message.event === "error") {
          const body = ApiErrorBody.safeParse(json);
          if (body.success) throw new ApiError(body.data.error.code, body.data.error.message, 500, body.data.error.retryable);
        }
        const event = RunEvent.safeParse(json);
        // Unknown frames are skipped so a newer server can add event types without breaking old tabs.
        if (!event.success) continue;
        onEvent(event.data);
        if (event.data.type === "run-end") return event.data;
      }
    }
  } finally {
    clearTimeout(timer);
    controller.signal.removeEventListener("abort", stop);
    reader.cancel().catch(() => undefined);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function linkedController(parent: AbortSignal): AbortController {
  const controller = new AbortController();
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener("abort", () => controller.abort(parent.reason), { once: true, signal: controller.signal });
  return controller;
}

/**
 * Waits before the next attempt, but wakes early when the browser comes back online or the tab
 * becomes visible again (after sleep), so a reply resumes as soon as it can.
 */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const target = typeof window === "undefined" ? undefined : window;
    const onVisible = () => {
      if (document.visibilityState === "visible") done();
    };
    signal.addEventListener("abort", done, { once: true });
    target?.addEventListener("online", done);
    target?.document.addEventListener("visibilitychange", onVisible);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      target?.removeEventListener("online", done);
      target?.document.removeEventListener("visibilitychange", onVisible);
      resolve();
    }
  });
}
