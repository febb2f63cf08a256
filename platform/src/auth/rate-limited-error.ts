import { AppError } from "@workforce/protocol";

/** "45 seconds", "1 minute", "15 minutes": rounded up, so the wait is never shorter than said. */
export function describeWait(seconds: number): string {
  if (seconds < 60) return seconds === 1 ? "1 second" : `${seconds} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

/**
 * 429 `rate_limited` with `Retry-After` (and any `headers` given, such as RateLimit-*). `reason`
 * completes "Too many …" or stands alone; the wait is appended as "; try again in N minutes".
 */
export function rateLimitedError(reason: string, retryAfterSeconds: number, headers: Record<string, string> = {}): AppError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError("rate_limited", `${reason}; try again in ${describeWait(seconds)}`, {
    headers: { ...headers, "retry-after": String(seconds) },
    retryable: true,
  });
}
