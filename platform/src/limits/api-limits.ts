/**
 * Rate limits of the authenticated API (issue 11, decision 017): requests per minute and
 * concurrent streams, each per API key and per user in an organisation, shared by every platform
 * process through the database. Limits come from `limitsFor(tenantId)` (the organisation's
 * overrides, else the WORKFORCE_API_* defaults), remembered for a few seconds per process.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv, Principal } from "../app-env";
import { rateLimitedError } from "../auth/rate-limited-error";
import { SingleFlight, TtlCache } from "../ttl-cache";
import type { SystemDatabase, SystemTransaction } from "../db/schema";
import { createRateLimiter } from "./rate-limiter";
import { createRequestCounter, type RequestCounter, type RequestDecision } from "./request-counter";
import { createStreamLeases, type StreamLease, type StreamLeases } from "./stream-leases";

/** One organisation's API limits, per API key and per user. */
export interface ApiLimits {
  requestsPerMinute: number;
  maxStreams: number;
}

/** WORKFORCE_API_REQUESTS_PER_MINUTE and WORKFORCE_API_MAX_STREAMS when unset. */
export const API_LIMIT_DEFAULTS: ApiLimits = { requestsPerMinute: 600, maxStreams: 20 };

/** Where an organisation's limits come from; the default answers the env defaults for everyone. */
export type ApiLimitsSource = (tenantId: string) => Promise<ApiLimits>;

export interface ApiLimiterDeps {
  counter: RequestCounter;
  leases: StreamLeases;
  /** WORKFORCE_API_REQUESTS_PER_MINUTE and WORKFORCE_API_MAX_STREAMS: for callers in no organisation, and the default source. */
  defaults: ApiLimits;
  /** The organisation's limits (its `tenant_limits` overrides); default: `defaults` for every organisation. */
  limitsFor?: ApiLimitsSource;
  now: () => number;
  /** How long a process keeps an organisation's limits before asking again (default 5 000 ms). */
  limitsTtlMs?: number;
}

/** The headers of the IETF draft "RateLimit header fields for HTTP", exposed to browsers through CORS. */
export const RATE_LIMIT_HEADERS = ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"] as const;

/** How long a refused stream is told to wait: streams end when their run ends, so soon is a guess. */
const STREAM_RETRY_AFTER_SECONDS = 5;

/** Whose quota a request counts against: the API key, or the user in the organisation they act in. */
export function subjectOf(principal: Principal, tenantId: string | undefined): string {
  if (principal.type === "api-key") return `key:${principal.keyId}`;
  return tenantId ? `user:${tenantId}:${principal.user.id}` : `user:${principal.user.id}`;
}

function describe(principal: Principal): string {
  return principal.type === "api-key" ? "this API key" : "you in this organisation";
}

function rateLimitHeaders(decision: RequestDecision, nowMs: number): Record<string, string> {
  return {
    "ratelimit-limit": String(decision.limit),
    "ratelimit-remaining": String(decision.remaining),
    "ratelimit-reset": String(Math.max(0, Math.ceil((decision.resetAt.getTime() - nowMs) / 1000))),
  };
}

function tooManyStreams(principal: Principal, maxStreams: number) {
  return rateLimitedError(`Too many open streams for ${describe(principal)} (at most ${maxStreams}); close one, or wait for a run to end`, STREAM_RETRY_AFTER_SECONDS);
}

export interface ApiLimiter {
  /** Middleware after `authenticate`: counts the request and sets the RateLimit-* headers, or refuses with 429 rate_limited. */
  requests(): MiddlewareHandler<AppEnv>;
  /** Takes a stream place for the caller, or throws 429 rate_limited; release the lease when the stream ends. */
  openStream(principal: Principal, tenantId: string): Promise<StreamLease>;
  /**
   * `openStream` as the first step of the caller's system transaction (a message's admission,
   * decision 051). Throws 429 rate_limited here when this process alone is at the limit, or from
   * `take` when the database count is; once the transaction ended, `committed` gives the lease.
   */
  prepareStream(principal: Principal, tenantId: string): Promise<StreamPlaceStep>;
  /** Deletes the expired leases of crashed processes (a periodic chore; live ones are never touched). */
  prune(): Promise<number>;
  /** Releases this process's stream leases (at shutdown). */
  close(): Promise<void>;
}

/** A stream place taken inside a larger system transaction. */
export interface StreamPlaceStep {
  /** Takes the place in `trx`, or throws 429 rate_limited (which rolls the transaction back). */
  take(trx: SystemTransaction): Promise<void>;
  /** The transaction that took the place committed: the lease (call this or `rolledBack`, once). */
  committed(): StreamLease;
  /** It did not (or `take` threw): nothing was taken. */
  rolledBack(): void;
}

export function createApiLimiter(deps: ApiLimiterDeps): ApiLimiter {
  const limitsFor = deps.limitsFor ?? (() => Promise.resolve(deps.defaults));
  const ttl = deps.limitsTtlMs ?? 5_000;
  const cached = new TtlCache<string, ApiLimits>(10_000);
  const reading = new SingleFlight<string, ApiLimits>();

  async function limitsOf(tenantId: string | undefined): Promise<ApiLimits> {
    if (!tenantId) return deps.defaults;
    const at = deps.now();
    const known = cached.get(tenantId, at);
    if (known) return known;
    return reading.run(tenantId, async () => {
      const limits = await limitsFor(tenantId);
      cached.set(tenantId, limits, at + ttl);
      return limits;
    });
  }

  return {
    requests() {
      return async (c, next) => {
        const principal = c.get("principal");
        const tenantId = c.get("membership")?.id;
        const limits = await limitsOf(tenantId);
        const decision = await deps.counter.take(`api-rpm:${subjectOf(principal, tenantId)}`, limits.requestsPerMinute);
        const headers = rateLimitHeaders(decision, deps.now());
        if (!decision.allowed) throw rateLimitedError(`Too many requests from ${describe(principal)} (${decision.limit} a minute)`, decision.retryAfterSeconds, headers);
        await next();
        // After the handler, so they land on whatever it answered (errors and streams included).
        for (const [name, value] of Object.entries(headers)) c.header(name, value);
      };
    },

    async openStream(principal, tenantId) {
      const { maxStreams } = await limitsOf(tenantId);
      const decision = await deps.leases.acquire(subjectOf(principal, tenantId), maxStreams);
      if (decision.allowed) return decision.lease;
      throw tooManyStreams(principal, maxStreams);
    },

    async prepareStream(principal, tenantId) {
      const { maxStreams } = await limitsOf(tenantId);
      const attempt = deps.leases.attempt(subjectOf(principal, tenantId), maxStreams);
      if (!attempt) throw tooManyStreams(principal, maxStreams);
      return {
        async take(trx) {
          if (!(await attempt.take(trx)).allowed) throw tooManyStreams(principal, maxStreams);
        },
        committed() {
          const lease = attempt.settle(true);
          if (!lease) throw new Error("committed a stream place that was never taken");
          return lease;
        },
        rolledBack: () => void attempt.settle(false),
      };
    },

    prune: () => deps.leases.prune(),
    close: () => deps.leases.close(),
  };
}

/** The limiter over the shared tables: `rate_limits` for requests, `stream_leases` for streams. */
export function createDatabaseApiLimiter(options: {
  system: SystemDatabase;
  now: () => Date;
  logError: (message: string, error: unknown) => void;
  defaults?: ApiLimits;
  limitsFor?: ApiLimitsSource;
}): ApiLimiter {
  const { system, now, logError } = options;
  return createApiLimiter({
    counter: createRequestCounter({ limiter: createRateLimiter({ system, now }), now }),
    leases: createStreamLeases({ system, now, logError }),
    defaults: options.defaults ?? API_LIMIT_DEFAULTS,
    ...(options.limitsFor ? { limitsFor: options.limitsFor } : {}),
    now: () => now().getTime(),
  });
}
