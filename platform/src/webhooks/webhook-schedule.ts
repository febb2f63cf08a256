/*
 * When deliveries are tried again, and when an endpoint that keeps failing is turned off
 * (docs/decisions/039-outbound-webhooks.md). The schedule is the Standard Webhooks example's
 * first eight attempts: about a day and a third from the first attempt to the last, long enough
 * to ride out a receiver's bad night, short enough that the log tells the story the same day.
 */

/** Delay before attempt n+1 after attempt n failed (n = 1…7); 8 attempts in all. */
export const RETRY_DELAYS_MS: readonly number[] = [
  5_000, // 5 s
  5 * 60_000, // 5 min
  30 * 60_000, // 30 min
  2 * 3_600_000, // 2 h
  5 * 3_600_000, // 5 h
  10 * 3_600_000, // 10 h
  14 * 3_600_000, // 14 h
];

/** Attempts per delivery: the first and one per delay. */
export const DELIVERY_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** A test event is one attempt: its outcome is what the member who sent it wants to see. */
export const TEST_DELIVERY_ATTEMPTS = 1;

/** Up to this share of a delay is added, so deliveries that failed together do not all come back at once. */
const JITTER_SHARE = 0.1;

/** A number in [0, 1) fixed by the delivery and attempt: spread across deliveries, repeatable in tests. */
function jitterOf(deliveryId: string, attempt: number): number {
  let hash = 2166136261;
  for (const character of `${deliveryId}:${attempt}`) hash = Math.imul(hash ^ character.charCodeAt(0), 16777619) >>> 0;
  return hash / 2 ** 32;
}

/** The longest a receiver's Retry-After is honoured for. */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/**
 * When to try again after attempt `attempt` (1-based) of a delivery failed: the schedule's delay
 * plus up to 10% jitter, or later if the receiver asked for more time (Retry-After, at most a day).
 */
export function nextAttemptAt(input: { deliveryId: string; attempt: number; failedAt: Date; retryAfterMs?: number | undefined }): Date {
  const base = RETRY_DELAYS_MS[Math.min(input.attempt, RETRY_DELAYS_MS.length) - 1] ?? RETRY_DELAYS_MS[0]!;
  const delay = Math.round(base * (1 + JITTER_SHARE * jitterOf(input.deliveryId, input.attempt)));
  const asked = Math.min(input.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS);
  return new Date(input.failedAt.getTime() + Math.max(delay, asked));
}

/** An endpoint is turned off when every attempt has failed for this long… */
export const DISABLE_AFTER_FAILING_MS = 3 * 24 * 3_600_000;
/** …and at least this many attempts in a row failed (a single stray failure days ago does not count as "failing for days"). */
export const DISABLE_AFTER_FAILURES = 10;

/** Whether an endpoint whose failures began at `failingSince` and number `failures` should be turned off now. */
export function shouldDisable(input: { failingSince: Date; failures: number; now: Date }): boolean {
  return input.failures >= DISABLE_AFTER_FAILURES && input.now.getTime() - input.failingSince.getTime() >= DISABLE_AFTER_FAILING_MS;
}
