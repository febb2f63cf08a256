import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import { TtlCache } from "../ttl-cache";
import { overridesOf } from "./tenant-limits";

/** An organisation's API limits in force: its operator-set override, else the installation's default (null: none). */
export interface ApiLimits {
  requestsPerMinute: number | null;
  maxStreams: number | null;
}

export interface LimitsReaderOptions {
  db: Database;
  /** WORKFORCE_API_REQUESTS_PER_MINUTE / WORKFORCE_API_MAX_STREAMS (null: no limit). */
  defaults: ApiLimits;
  now?: () => number;
  /** How long a read is trusted: a change by the operator reaches every process within this (5 s). */
  ttlMs?: number;
  maxEntries?: number;
}

/**
 * `limitsFor(tenantId)`: the rate limits an organisation's API keys and users get, remembered
 * for a few seconds per organisation so a request costs no database round trip.
 */
export function createLimitsReader(options: LimitsReaderOptions) {
  const ttlMs = options.ttlMs ?? 5_000;
  const now = options.now ?? Date.now;
  const cache = new TtlCache<string, ApiLimits>(options.maxEntries ?? 10_000);

  return {
    async limitsFor(tenantId: string): Promise<ApiLimits> {
      const at = now();
      const cached = cache.get(tenantId, at);
      if (cached) return cached;
      const row = await withTenant(options.db, tenantId, (trx) =>
        trx
          .selectFrom("tenant_limits")
          .select(["max_concurrent_runs", "max_queued_runs", "monthly_tokens", "disk_mb", "requests_per_minute", "max_streams"])
          .where("tenant_id", "=", tenantId)
          .executeTakeFirst(),
      );
      const overrides = overridesOf(row);
      const limits = {
        requestsPerMinute: overrides.requestsPerMinute ?? options.defaults.requestsPerMinute,
        maxStreams: overrides.maxStreams ?? options.defaults.maxStreams,
      };
      cache.set(tenantId, limits, at + ttlMs);
      return limits;
    },
    /** The operator changed the organisation's limits here: read them afresh. */
    invalidate(tenantId: string): void {
      cache.delete(tenantId);
    },
  };
}

export type LimitsReader = ReturnType<typeof createLimitsReader>;
