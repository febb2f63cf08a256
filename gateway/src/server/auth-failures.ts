import { AppError } from "@workforce/protocol";

export interface AuthFailureLimits {
  /** Failures from one address within `windowMs` before further attempts get rate_limited. */
  maxFailures: number;
  windowMs: number;
  now?: () => number;
  /** Addresses tracked at once; beyond this the table starts afresh rather than grow without bound. */
  maxTracked?: number;
}

export const DEFAULT_AUTH_FAILURE_LIMITS = { maxFailures: 20, windowMs: 60_000 } as const;

/**
 * Counts failed authentications per client address, shared by every way in (HTTP routes and the
 * WebSocket upgrade), so guessing the token over one does not reset the count of the other.
 */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, { count: number; since: number }>();
  private readonly now: () => number;

  constructor(private readonly limits: AuthFailureLimits) {
    this.now = limits.now ?? Date.now;
  }

  /** Throws rate_limited (with retry-after) while `address` is over the limit. */
  check(address: string): void {
    const now = this.now();
    const record = this.failures.get(address);
    if (!record) return;
    if (now - record.since > this.limits.windowMs) {
      this.failures.delete(address);
      return;
    }
    if (record.count >= this.limits.maxFailures) {
      const retryAfter = Math.max(1, Math.ceil((record.since + this.limits.windowMs - now) / 1000));
      throw new AppError("rate_limited", "too many failed authentication attempts; try again later", { headers: { "retry-after": String(retryAfter) } });
    }
  }

  fail(address: string): void {
    if (this.failures.size >= (this.limits.maxTracked ?? 10_000)) this.failures.clear();
    const record = this.failures.get(address);
    this.failures.set(address, { count: (record?.count ?? 0) + 1, since: record?.since ?? this.now() });
  }

  get trackedAddresses(): number {
    return this.failures.size;
  }
}

/** One spelling per client: IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d. */
export function normalizeAddress(address: string | undefined): string {
  if (!address) return "unknown";
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
