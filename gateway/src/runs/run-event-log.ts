import type { RunEvent, RunEventInput } from "@workforce/protocol";

/**
 * A finished run's events, stored compactly: each stretch of consecutive text-delta events is
 * one string plus the offsets where its deltas end (4 bytes per delta instead of an object).
 * Replaying rebuilds the very same events, seqs included, so a client resuming mid-reply gets
 * exactly what it missed.
 */
type Span = { kind: "event"; event: RunEvent } | { kind: "text"; firstSeq: number; text: string; ends: Uint32Array };

function compact(events: readonly RunEvent[]): Span[] {
  const spans: Span[] = [];
  for (let index = 0; index < events.length; ) {
    const event = events[index] as RunEvent;
    if (event.type !== "text-delta") {
      spans.push({ kind: "event", event });
      index += 1;
      continue;
    }
    const parts: string[] = [];
    const ends: number[] = [];
    let length = 0;
    for (; index < events.length; index += 1) {
      const delta = events[index] as RunEvent;
      if (delta.type !== "text-delta") break;
      parts.push(delta.delta);
      length += delta.delta.length;
      ends.push(length);
    }
    spans.push({ kind: "text", firstSeq: event.seq, text: parts.join(""), ends: Uint32Array.from(ends) });
  }
  return spans;
}

/**
 * The ordered events of one run. Stamps each event with the next `seq` (1, 2, 3, …) and lets any
 * number of readers replay from a seq and then follow live until `run-end`. At run-end the log is
 * compacted (see `Span`), since finished runs stay replayable for a while.
 */
export class RunEventLog {
  private events: RunEvent[] = [];
  /** Set at run-end: the compacted events; `events` is emptied. */
  private spans: Span[] | undefined;
  private count = 0;
  private readonly waiters = new Set<() => void>();

  /** `onAppend` sees every event once stamped (the relay publishes it to other gateways). */
  constructor(
    readonly runId: string,
    private readonly onAppend?: (event: RunEvent) => void,
  ) {}

  get lastSeq(): number {
    return this.count;
  }

  get ended(): boolean {
    return this.spans !== undefined;
  }

  /** Roughly how many bytes the log holds (for the run manager's retention bound). */
  get approximateBytes(): number {
    if (!this.spans) return this.count * 200;
    let bytes = 0;
    for (const span of this.spans) bytes += span.kind === "text" ? 2 * span.text.length + span.ends.byteLength + 100 : 300;
    return bytes;
  }

  /** Appends an event; anything after run-end is ignored so a run ends exactly once. */
  append(input: RunEventInput): RunEvent | undefined {
    if (this.ended) return undefined;
    this.count += 1;
    const event = { ...input, runId: this.runId, seq: this.count };
    this.events.push(event);
    this.onAppend?.(event);
    if (event.type === "run-end") {
      this.spans = compact(this.events);
      this.events = [];
    }
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    return event;
  }

  /** Events with seq > after, then live ones, until run-end or `signal` aborts. */
  async *follow(after: number, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    let next = Math.max(0, after);
    for (;;) {
      if (this.spans) {
        yield* this.replay(this.spans, next);
        return;
      }
      const event = this.events[next];
      if (event) {
        next += 1;
        yield event;
        continue;
      }
      if (signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener("abort", wake);
          this.waiters.delete(wake);
          resolve();
        };
        this.waiters.add(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /** The compacted events with seq > after. */
  private *replay(spans: readonly Span[], after: number): Generator<RunEvent> {
    for (const span of spans) {
      if (span.kind === "event") {
        if (span.event.seq > after) yield span.event;
        continue;
      }
      for (let index = Math.max(0, after - span.firstSeq + 1); index < span.ends.length; index += 1) {
        const start = index === 0 ? 0 : (span.ends[index - 1] as number);
        yield { type: "text-delta", delta: span.text.slice(start, span.ends[index]), runId: this.runId, seq: span.firstSeq + index };
      }
    }
  }
}
