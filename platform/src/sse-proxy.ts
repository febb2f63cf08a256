import { encodeSseEvent, SSE_HEARTBEAT, type ApprovalRequiredEvent, type RunEndEvent, type RunEvent } from "@workforce/protocol";
import type { RunStream } from "./chat/resuming-run-stream";
import type { StreamStats } from "./stream-stats";

export const HEARTBEAT_MS = 15_000;
/** A browser that reads slower than this much output is cut off; it resumes with Last-Event-ID. */
export const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

const encoder = new TextEncoder();
const HEARTBEAT_BYTES = encoder.encode(SSE_HEARTBEAT);

/**
 * One timer for the heartbeat of every open stream: a stream only joins a Set, so an open
 * stream costs no timer of its own.
 */
export function createStreamHeartbeat(intervalMs: number = HEARTBEAT_MS) {
  const beats = new Set<() => void>();
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    add(beat: () => void): void {
      beats.add(beat);
      if (!timer) {
        timer = setInterval(() => {
          for (const each of [...beats]) each();
        }, intervalMs);
        timer.unref();
      }
    },
    delete(beat: () => void): void {
      beats.delete(beat);
      if (beats.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
      }
    },
    get size(): number {
      return beats.size;
    },
  };
}

export type StreamHeartbeat = ReturnType<typeof createStreamHeartbeat>;

export interface ProxyOptions {
  subscription: RunStream;
  tenantId: string;
  kind: "start" | "resume";
  /** The seq the browser resumes after (Last-Event-ID); 0 for a new stream. */
  after?: number;
  /** Only the counters the proxy moves. */
  stats: Pick<StreamStats, "open" | "firstToken" | "eventSent">;
  heartbeat: StreamHeartbeat;
  /** When the request arrived, for time-to-first-token. */
  startedAt: number;
  now: () => number;
  /** Called once with the run's end (also when the browser left before it). `agent` comes from run-start when seen. */
  onRunEnd?: (event: RunEndEvent, agent: string | undefined) => void | Promise<void>;
  /** Called when the run pauses for a tool call's approval (issue 15), before the browser gets the event. */
  onApprovalRequired?: (event: ApprovalRequiredEvent) => void;
  /** Called once when the stream to the browser ends, however it ends (its stream lease is released here). */
  onClose?: () => Promise<void>;
  maxBufferedBytes?: number;
  /**
   * When the gateway connection drops mid-run: follows the run again from the last seq sent (see
   * chat/interrupted-run.ts), or gives its end (`run_interrupted`); undefined lets the browser resume.
   */
  recover?: (lastSeq: number, signal: AbortSignal) => Promise<RunStream | RunEndEvent | undefined>;
}

/**
 * Streams a run's events to the browser as SSE (`id: seq`, so the browser can resume with
 * Last-Event-ID), with the shared heartbeat in between. If the browser goes away the run goes
 * on in the gateway; the subscription then only watches for run-end, to record the run's usage.
 */
export function proxySse(options: ProxyOptions): Response {
  const { stats } = options;
  let subscription = options.subscription;
  let lastSeq = options.after ?? 0;
  const browserLeft = new AbortController();
  const maxBuffered = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  const close = stats.open(options.tenantId, options.kind);
  let sawFirstToken = options.kind === "resume";
  let open = true;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed: Promise<void> = Promise.resolve();

  const finish = (endStream: boolean) => {
    if (!open) return;
    open = false;
    options.heartbeat.delete(beat);
    close();
    browserLeft.abort();
    subscription.detach();
    if (options.onClose) closed = options.onClose();
    if (endStream) {
      try {
        controller.close();
      } catch {
        // already closed or cancelled
      }
    }
  };
  const enqueue = (bytes: Uint8Array) => {
    if (!open) return;
    try {
      controller.enqueue(bytes);
    } catch {
      finish(false);
      return;
    }
    // No backpressure reaches the gateway (the connection is shared): a browser that stopped
    // reading is cut off instead of buffering without bound.
    if ((controller.desiredSize ?? 0) < -maxBuffered) finish(true);
  };
  const beat = () => enqueue(HEARTBEAT_BYTES);
  // Events that arrive together (one read of the gateway connection) go out in one write: a
  // socket write per event was the platform's biggest cost per message.
  let batch = "";
  const writeBatch = () => {
    const text = batch;
    batch = "";
    if (text) enqueue(encoder.encode(text));
  };

  const body = new ReadableStream<Uint8Array>(
    {
      start(streamController) {
        controller = streamController;
      },
      // Resolves once the stream's place is free again, so a client that cancelled can open the next at once.
      cancel() {
        finish(false);
        return closed;
      },
    },
    { highWaterMark: 64 * 1024, size: (chunk) => chunk.byteLength },
  );

  const watchRunEnd = (watched: RunStream) => {
    const onRunEnd = options.onRunEnd;
    if (onRunEnd) watched.onRunEnd((event, agent) => void Promise.resolve(onRunEnd(event, agent)).catch(() => undefined));
  };
  watchRunEnd(subscription);
  /** The gateway connection broke mid-run: follow the run again, end it run_interrupted, or let the client resume with Last-Event-ID. */
  const recover = async (recoverWith: NonNullable<ProxyOptions["recover"]>) => {
    const found = await recoverWith(lastSeq, browserLeft.signal).catch(() => undefined);
    if (found && "attach" in found) {
      if (!open) return found.detach();
      subscription = found;
      watchRunEnd(found);
      found.attach(sink);
      if (found.closed && open) finish(true);
    } else if (found) sink.event(found);
    else finish(true);
  };
  const sink = {
    event(event: RunEvent) {
      if (!open) return;
      lastSeq = Math.max(lastSeq, event.seq);
      if (!sawFirstToken && event.type === "text-delta") {
        sawFirstToken = true;
        stats.firstToken(options.now() - options.startedAt);
      }
      stats.eventSent();
      if (event.type === "approval-required") options.onApprovalRequired?.(event);
      if (!batch) queueMicrotask(writeBatch);
      batch += encodeSseEvent(event);
      if (event.type === "run-end") {
        writeBatch();
        finish(true);
      }
    },
    lost() {
      writeBatch();
      if (options.recover && open) void recover(options.recover);
      else finish(true);
    },
  };
  subscription.attach(sink);
  // A finished run with nothing after Last-Event-ID: an empty stream that ends at once.
  if (subscription.closed) finish(true);
  else if (open) options.heartbeat.add(beat);

  return new Response(body, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      "x-accel-buffering": "no",
      "x-run-id": subscription.runId,
    },
  });
}
