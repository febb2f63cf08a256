import { RunEndEvent, RunStartEvent, type RunEvent } from "@workforce/protocol";

/** Receives a run's events, in order and each once. */
export interface RunSink {
  event(event: RunEvent): void;
  /** The gateway connection was lost before run-end: the client resumes with Last-Event-ID. */
  lost(): void;
}

/**
 * One run's events arriving over a shared connection to the gateway. Events that come before a sink
 * is attached are kept; after `detach` they are only watched for run-start/run-end (so usage is
 * still recorded when the browser left), until run-end or the connection ends.
 */
export class RunSubscription {
  /** From run-start, when seen. */
  agent: string | undefined;
  /** The run's end, when seen. */
  end: RunEndEvent | undefined;
  /** True once nothing more will arrive (run-end seen, or the connection lost). */
  closed = false;
  private lastSeq: number;
  private sink: RunSink | undefined;
  private pending: RunEvent[] | undefined = [];
  private lostBeforeAttach = false;
  private runEndListener: ((event: RunEndEvent, agent: string | undefined) => void) | undefined;
  private runEndReported = false;

  constructor(
    readonly runId: string,
    after: number,
    private readonly release: (subscription: RunSubscription) => void,
  ) {
    this.lastSeq = after;
  }

  /** Called once with the run's end, also after `detach` (and at once if it already came). */
  onRunEnd(listener: (event: RunEndEvent, agent: string | undefined) => void): void {
    this.runEndListener = listener;
    this.reportRunEnd();
  }

  private reportRunEnd(): void {
    if (!this.end || !this.runEndListener || this.runEndReported) return;
    this.runEndReported = true;
    this.runEndListener(this.end, this.agent);
  }

  /** Starts delivering (buffered events first). */
  attach(sink: RunSink): void {
    this.sink = sink;
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const event of pending) sink.event(event);
    if (this.lostBeforeAttach) sink.lost();
  }

  /** Stops delivering; run-end is still watched for. */
  detach(): void {
    this.sink = undefined;
    this.pending = undefined;
  }

  /** No more events wanted at all (the subscription stays registered until the gateway ends it). */
  get attached(): boolean {
    return this.sink !== undefined;
  }

  deliver(event: RunEvent): void {
    // Exactly once and in order: a replayed or repeated seq is dropped.
    if (this.closed || event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    if (event.type === "run-start" || event.type === "run-end") {
      const parsed = (event.type === "run-start" ? RunStartEvent : RunEndEvent).safeParse(event);
      if (parsed.success && parsed.data.type === "run-start") this.agent = parsed.data.agent;
      if (parsed.success && parsed.data.type === "run-end") this.end = parsed.data;
    }
    if (this.pending) this.pending.push(event);
    else this.sink?.event(event);
    if (this.end) {
      this.closed = true;
      this.release(this);
      this.reportRunEnd();
    }
  }

  connectionLost(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pending) this.lostBeforeAttach = true;
    else this.sink?.lost();
  }
}
