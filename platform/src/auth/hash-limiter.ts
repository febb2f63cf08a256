/**
 * A small semaphore every password hash and verification goes through. Hashes run on libuv's
 * thread pool (4 threads by default), which file-system and DNS work share: an unauthenticated
 * flood of sign-ins or sign-ups would otherwise take all four and stall everyone's reads and
 * lookups. With the default concurrency of 2, at least two threads always stay free.
 *
 * Waiting work is bounded too: past `maxQueue` waiting tasks, the caller is refused at once with
 * 429 `rate_limited` and Retry-After (not 503, which load balancers take for a sick instance),
 * instead of piling up memory and latency without limit.
 */
import { AppError } from "@workforce/protocol";

/** The defaults of the hash limiter. */
export const HASH_LIMITER_DEFAULTS = {
  /** Hashes computed at once: 2, half of libuv's default thread pool. */
  concurrency: 2,
  /** Hashes waiting for a slot before further ones are refused: 32 (a second or two of work). */
  maxQueue: 32,
  /** Retry-After of a refusal, in seconds: 1. */
  retryAfterSeconds: 1,
} as const satisfies HashLimiterOptions;

export interface HashLimiterOptions {
  concurrency?: number;
  maxQueue?: number;
  retryAfterSeconds?: number;
}

/** Counters for tests and metrics. */
export interface HashLimiterStats {
  /** Tasks computing now. */
  running: number;
  /** Tasks waiting for a slot now. */
  queued: number;
  /** The most tasks ever computing at once (never above the concurrency). */
  maxRunning: number;
  /** Tasks finished, successfully or not. */
  completed: number;
  /** Tasks refused because the queue was full. */
  rejected: number;
}

export interface HashLimiter {
  /** Runs `task` when a slot is free; throws 429 `rate_limited` at once when the queue is full. */
  run<T>(task: () => Promise<T>): Promise<T>;
  stats(): HashLimiterStats;
}

export function createHashLimiter(options: HashLimiterOptions = {}): HashLimiter {
  const concurrency = options.concurrency ?? HASH_LIMITER_DEFAULTS.concurrency;
  const maxQueue = options.maxQueue ?? HASH_LIMITER_DEFAULTS.maxQueue;
  const retryAfterSeconds = options.retryAfterSeconds ?? HASH_LIMITER_DEFAULTS.retryAfterSeconds;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`hash concurrency must be a positive integer, got ${concurrency}`);
  if (!Number.isInteger(maxQueue) || maxQueue < 0) throw new RangeError(`hash queue length must be a non-negative integer, got ${maxQueue}`);

  const waiting: (() => void)[] = [];
  const counters = { running: 0, maxRunning: 0, completed: 0, rejected: 0 };

  function start(): void {
    counters.running += 1;
    counters.maxRunning = Math.max(counters.maxRunning, counters.running);
  }

  function finish(): void {
    counters.running -= 1;
    counters.completed += 1;
    // The slot passes straight to the next waiter, so running never exceeds the concurrency.
    const next = waiting.shift();
    if (next) {
      start();
      next();
    }
  }

  return {
    async run(task) {
      if (counters.running < concurrency) {
        start();
      } else if (waiting.length < maxQueue) {
        await new Promise<void>((resolve) => waiting.push(resolve));
      } else {
        counters.rejected += 1;
        throw new AppError("rate_limited", `The server is busy checking passwords; try again in ${retryAfterSeconds} second${retryAfterSeconds === 1 ? "" : "s"}`, {
          headers: { "retry-after": String(retryAfterSeconds) },
          retryable: true,
        });
      }
      try {
        return await task();
      } finally {
        finish();
      }
    },
    stats() {
      return { ...counters, queued: waiting.length };
    },
  };
}
