import type { RunEvent, RunEventInput } from "@workforce/protocol";

/**
 * The ordered events of one run. Stamps each event with the next `seq` (1, 2, 3, …) and lets any
 * number of readers replay from a seq and then follow live until `run-end`.
 */
export class RunEventLog {
  private readonly events: RunEvent[] = [];
  private readonly waiters = new Set<() => void>();

  /** `onAppend` sees every event once stamped (the relay publishes it to other gateways). */
  constructor(
    readonly runId: string,
    private readonly onAppend?: (event: RunEvent) => void,
  ) {}

  get lastSeq(): number {
    return this.events.length;
  }

  get ended(): boolean {
    return this.events.at(-1)?.type === "run-end";
  }

  /** Appends an event; anything after run-end is ignored so a run ends exactly once. */
  append(input: RunEventInput): RunEvent | undefined {
    if (this.ended) return undefined;
    const event = { ...input, runId: this.runId, seq: this.events.length + 1 };
    this.events.push(event);
    this.onAppend?.(event);
    for (const wake of this.waiters) wake();
    this.waiters.clear();
    return event;
  }

  /** Events with seq > after, then live ones, until run-end or `signal` aborts. */
  async *follow(after: number, signal?: AbortSignal): AsyncGenerator<RunEvent> {
    let next = Math.max(0, after);
    for (;;) {
      while (next < this.events.length) {
        const event = this.events[next];
        next += 1;
        if (event) yield event;
      }
      if (this.ended || signal?.aborted) return;
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
}
