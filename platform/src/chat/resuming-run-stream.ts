import { RunEndEvent, type RunActor, type RunEvent, type RunInfo, type GatewayRunInput } from "@workforce/protocol";
import type { RunSink, RunSubscription } from "../gateway-run-streams";

/** What the SSE proxy and the chat routes use of a run's stream, wherever it comes from. */
export type RunStream = Pick<RunSubscription, "runId" | "closed" | "end" | "attach" | "detach" | "onRunEnd">;

/**
 * A run's stream that survives the gateway it came through: when that connection is lost before
 * run-end, it subscribes again from the last seq it delivered through another gateway (the run
 * relay serves runs of every gateway), so the browser sees one uninterrupted stream, every event
 * once. Only when no gateway can be reached is the loss passed on (the browser then resumes with
 * Last-Event-ID, as with a single gateway).
 */
export class ResumingRunStream implements RunStream {
  closed = false;
  private lastSeq: number;
  private agent: string | undefined;
  end: RunEndEvent | undefined;
  private sink: RunSink | undefined;
  private pending: RunEvent[] | undefined = [];
  private lostBeforeAttach = false;
  private endListener: ((event: RunEndEvent, agent: string | undefined) => void) | undefined;
  private endReported = false;
  private current: RunSubscription;

  constructor(
    readonly runId: string,
    first: RunSubscription,
    after: number,
    /** Subscribes again from `after` through a gateway other than the ones that failed; rejects when none can serve. */
    private readonly resubscribe: (after: number) => Promise<RunSubscription>,
  ) {
    this.lastSeq = after;
    this.current = first;
    this.follow(first);
  }

  attach(sink: RunSink): void {
    this.sink = sink;
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const event of pending) sink.event(event);
    if (this.lostBeforeAttach) sink.lost();
  }

  detach(): void {
    this.sink = undefined;
    this.pending = undefined;
    // Run-end is still watched for (usage) through the current subscription.
  }

  onRunEnd(listener: (event: RunEndEvent, agent: string | undefined) => void): void {
    this.endListener = listener;
    this.reportEnd();
  }

  private follow(subscription: RunSubscription): void {
    this.current = subscription;
    if (subscription.closed && !subscription.end) {
      // Already finished with nothing after `after` (a subscribe to an ended run): nothing will come.
      this.closed = true;
      return;
    }
    subscription.attach({ event: (event) => this.deliver(event), lost: () => void this.resume(subscription) });
  }

  private deliver(event: RunEvent): void {
    if (this.closed || event.seq <= this.lastSeq) return;
    this.lastSeq = event.seq;
    if (event.type === "run-start" && typeof event.agent === "string") this.agent = event.agent;
    if (event.type === "run-end") this.end = RunEndEvent.safeParse(event).data;
    if (this.pending) this.pending.push(event);
    else this.sink?.event(event);
    if (event.type === "run-end") {
      this.closed = true;
      this.reportEnd();
    }
  }

  private async resume(lost: RunSubscription): Promise<void> {
    if (this.closed || lost !== this.current) return;
    try {
      this.follow(await this.resubscribe(this.lastSeq));
    } catch {
      this.closed = true;
      if (this.pending) this.lostBeforeAttach = true;
      else this.sink?.lost();
    }
  }

  private reportEnd(): void {
    if (!this.end || !this.endListener || this.endReported) return;
    this.endReported = true;
    this.endListener(this.end, this.agent);
  }
}

/** Run streams as the chat routes use them: one gateway's pool, or the routed cluster's. */
export interface RunStreams {
  startRun(tenantId: string, agent: string, input: GatewayRunInput, actor?: RunActor): Promise<{ info: RunInfo; subscription: RunStream }>;
  /** `session` (from the run's info) routes the subscription to the gateway of its session, which most likely executes it. */
  subscribe(tenantId: string, runId: string, after: number, session?: { agent: string; sessionKey: string }): Promise<{ info: RunInfo; subscription: RunStream }>;
  stats(): { connections: number; runs: number };
  close(): void;
}
