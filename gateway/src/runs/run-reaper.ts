import type { InFlightRun } from "./in-flight-journal";

/**
 * Ends the runs of gateways that died, for every follower on every gateway (cluster mode; the
 * implementation is `adapters/redis/redis-run-reaper`). A single gateway needs none: its own next
 * start ends what it left behind (interrupted-runs.ts).
 */
export interface RunReaper {
  /** One pass over the members with runs: ends those of dead members; how many this gateway ended. */
  reap(): Promise<number>;
  /** Ends one run `run_interrupted`, exactly once across gateways; false when it had ended or another gateway did it. */
  interrupt(runId: string): Promise<boolean>;
  /** Told about each started run this gateway ended, so its transcript gets the interrupted marker. */
  onReaped(listener: (run: InFlightRun) => void): void;
  close(): Promise<void>;
}

/** A reaper whose implementation (and Redis client) is imported only when one is configured. */
export function lazyRunReaper(load: () => Promise<RunReaper>): RunReaper {
  const loading = load();
  loading.catch(() => undefined); // reported by the calls that need it
  return {
    reap: async () => (await loading).reap(),
    interrupt: async (runId) => (await loading).interrupt(runId),
    onReaped: (listener) => void loading.then((reaper) => reaper.onReaped(listener), () => undefined),
    close: async () => (await loading.catch(() => undefined))?.close(),
  };
}
