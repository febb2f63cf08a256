/**
 * Requests per window for busy keys, over the shared `rate_limits` counters without a database
 * round trip per request. Each process counts admissions locally and hands them to the shared
 * counter in batches (one weighted `hit`); it refuses locally once the count it last saw plus its
 * own unsent hits reach the limit.
 *
 * Tolerance: the first request of a window on each process, and every `batch`-th after, asks the
 * database and is judged by the shared count; in between a process does not see the others'
 * unsent hits. So a key is admitted at
 * most `limit + (processes - 1) × batch` times per window, and exactly `limit` times on one
 * process. `batch` is `floor(limit × batchFraction)`, at least 1: limits under 50 a minute are
 * exact on any number of processes. Refused requests are not counted.
 */
import type { RateLimiter } from "./rate-limiter";
import { TtlCache } from "../ttl-cache";

export interface RequestDecision {
  allowed: boolean;
  limit: number;
  /** Requests left in this window as far as this process knows (0 when refused). */
  remaining: number;
  /** When the window ends. */
  resetAt: Date;
  /** 0 when allowed; otherwise whole seconds until the window ends (at least 1). */
  retryAfterSeconds: number;
}

export interface RequestCounter {
  /** Counts one request on `key` against `limit` per `windowMs`. */
  take(key: string, limit: number): Promise<RequestDecision>;
  /** The local batch size for `limit`: how many admissions a process may hold before telling the others. */
  batchFor(limit: number): number;
}

export interface RequestCounterDeps {
  limiter: RateLimiter;
  now: () => Date;
  /** Window length (default 60 000 ms: requests per minute). */
  windowMs?: number;
  /** Share of the limit a process may admit before reporting (default 0.02). */
  batchFraction?: number;
  /** Keys remembered at most, least recently used dropped first (default 10 000). */
  maxKeys?: number;
}

interface LocalWindow {
  limit: number;
  resetAt: number;
  /** The shared count the last hit returned. */
  counted: number;
  /** Admitted here, not yet sent. */
  pending: number;
}

export function createRequestCounter({ limiter, now, windowMs = 60_000, batchFraction = 0.02, maxKeys = 10_000 }: RequestCounterDeps): RequestCounter {
  const windows = new TtlCache<string, LocalWindow>(maxKeys);
  const batchFor = (limit: number) => Math.max(1, Math.floor(limit * batchFraction));

  const decision = (window: LocalWindow, allowed: boolean, at: number): RequestDecision => ({
    allowed,
    limit: window.limit,
    remaining: allowed ? Math.max(0, window.limit - window.counted - window.pending) : 0,
    resetAt: new Date(window.resetAt),
    retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((window.resetAt - at) / 1000)),
  });

  /** Sends `weight` hits and adopts the shared count (and window, which may have restarted). */
  async function send(key: string, limit: number, weight: number): Promise<LocalWindow> {
    const shared = await limiter.hit(key, { limit, windowMs }, weight);
    const known = windows.get(key, now().getTime());
    // Admissions made here while the hit was under way stay pending.
    const window: LocalWindow = { limit, resetAt: shared.resetAt.getTime(), counted: shared.count, pending: known && known.limit === limit ? known.pending : 0 };
    windows.set(key, window, window.resetAt);
    return window;
  }

  return {
    batchFor,
    async take(key, limit) {
      const at = now().getTime();
      const known = windows.get(key, at);
      if (!known || known.limit !== limit) {
        // A new window here (or a changed limit): ask the shared counter, exactly.
        const window = await send(key, limit, 1);
        return decision(window, window.counted <= limit, at);
      }
      if (known.counted + known.pending >= limit) return decision(known, false, at);
      known.pending += 1;
      if (known.pending < batchFor(limit)) return decision(known, true, at);
      // The batch is full: send it, and let the shared count judge this request (with a batch of
      // one, every request is judged there: exact).
      const weight = known.pending;
      known.pending = 0;
      const window = await send(key, limit, weight);
      return decision(window, window.counted <= limit, at);
    },
  };
}
