import { AppError, encodeSseEvent, type RunEndEvent } from "@workforce/protocol";
import type { RunStream } from "./resuming-run-stream";

/** What the browser is told when the run it followed is gone with its gateway. */
export const RUN_INTERRUPTED_MESSAGE = "The gateway running this reply stopped before it finished, and the reply cannot be recovered. Send the message again.";

/** Waits between attempts to follow a run again after its gateway connection dropped (a gateway restarting takes seconds). */
export const RESUBSCRIBE_DELAYS_MS = [0, 250, 500, 1_000, 2_000, 4_000, 8_000];

/** The end of a run that will never end by itself: after whatever seq the follower saw. */
export function interruptedRunEnd(runId: string, lastSeq: number, at: string): RunEndEvent {
  return {
    type: "run-end",
    runId,
    seq: lastSeq + 1,
    status: "error",
    usage: { inputTokens: 0, outputTokens: 0 },
    error: { code: "run_interrupted", message: RUN_INTERRUPTED_MESSAGE, retryable: true },
    at,
  };
}

/** True for the gateway's answer about a run it no longer knows (its gateway died, or it was forgotten). */
export function isRunGone(error: unknown): boolean {
  return error instanceof AppError && error.code === "run_not_found";
}

export interface ResubscribeOptions {
  runId: string;
  /** The last seq the browser got. */
  lastSeq: number;
  /** Follows the run again from `after`, through whichever gateway answers now. */
  subscribe(after: number): Promise<{ subscription: RunStream }>;
  now: () => Date;
  /** Stops trying (the browser left). */
  signal?: AbortSignal;
  delaysMs?: readonly number[];
}

/**
 * After a run's gateway connection dropped mid-run: subscribes again (a restarted gateway, or
 * another one through the relay, may still serve it), or, when the gateway answers that the run is
 * gone, ends it `run_interrupted`, never a silent close. Undefined when no gateway answered at all:
 * the browser then resumes itself with Last-Event-ID.
 */
export async function resubscribeLost(options: ResubscribeOptions): Promise<RunStream | RunEndEvent | undefined> {
  for (const delay of options.delaysMs ?? RESUBSCRIBE_DELAYS_MS) {
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    if (options.signal?.aborted) return undefined;
    try {
      const { subscription } = await options.subscribe(options.lastSeq);
      // Ended, yet its end never reached this stream: nothing more will come, so say how it ended.
      if (subscription.closed && !subscription.end) return interruptedRunEnd(options.runId, options.lastSeq, options.now().toISOString());
      return subscription;
    } catch (error) {
      if (isRunGone(error)) return interruptedRunEnd(options.runId, options.lastSeq, options.now().toISOString());
      if (!(error instanceof AppError) || !error.retryable) return undefined;
    }
  }
  return undefined;
}

/** The stream of a run the browser followed (it names a seq it saw) that the gateway no longer knows: its end, at once. */
export function interruptedRunResponse(runId: string, lastSeq: number, at: string): Response {
  return new Response(encodeSseEvent(interruptedRunEnd(runId, lastSeq, at)), {
    status: 200,
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no", "x-run-id": runId },
  });
}
