import { sql } from "kysely";
import type { SystemDatabase } from "./schema";
import { withSystem, withTenant } from "./scopes";

/** What one process publishes: its lifetime counters, open streams per tenant, new TTFT samples. */
export interface InstanceCounters {
  instanceId: string;
  openByTenant: ReadonlyMap<string, number>;
  streamsStarted: number;
  eventsSent: number;
  resumes: number;
  newTtftSamples: readonly number[];
}

export interface StreamStatsStoreOptions {
  /** An instance whose heartbeat is older than this is not counted (it stopped or hangs). */
  liveForMs: number;
  /** Dead instances' rows are deleted after this long. */
  pruneAfterMs: number;
  /** TTFT samples older than this are ignored and deleted. */
  ttftWindowMs: number;
  /** At most this many of the newest samples feed the percentiles. */
  ttftMaxSamples: number;
}

/** Heartbeat every 3 s (see createStreamStats), so an instance is live for three missed beats plus slack. */
export const STREAM_STATS_DEFAULTS: StreamStatsStoreOptions = {
  liveForMs: 10_000,
  pruneAfterMs: 60 * 60_000,
  ttftWindowMs: 15 * 60_000,
  ttftMaxSamples: 1000,
};

export interface InstanceReport {
  id: string;
  openStreams: number;
  /** The caller's tenant's open streams on this instance. */
  tenantOpenStreams: number;
  streamsStarted: number;
  eventsSent: number;
  resumes: number;
  startedAt: string;
  heartbeatAt: string;
}

export interface ClusterReport {
  instances: InstanceReport[];
  tenantsStreaming: number;
  ttftMs: { median: number | null; p95: number | null; samples: number; windowSeconds: number };
}

/** `now() - interval` in the database's clock, which every instance shares (their own clocks may drift). */
const ago = (milliseconds: number) => sql<Date>`now() - make_interval(secs => ${milliseconds / 1000})`;

const toNumber = (value: string | number | null | undefined) => (value === null || value === undefined ? 0 : Number(value));

/**
 * The database side of the cluster-wide stream statistics. Instances write in the system scope
 * (they report every tenant's counts); a tenant's own counts are read through row-level
 * security, and other tenants appear only inside totals.
 */
export function createStreamStatsStore(system: SystemDatabase, options: StreamStatsStoreOptions) {
  return {
    /** Replaces this instance's row and tenant rows, appends its new TTFT samples, prunes old rows. */
    async publish(counters: InstanceCounters): Promise<void> {
      let openStreams = 0;
      for (const count of counters.openByTenant.values()) openStreams += count;
      const totals = {
        open_streams: openStreams,
        streams_started: counters.streamsStarted,
        events_sent: counters.eventsSent,
        resumes: counters.resumes,
      };
      await withSystem(system, async (trx) => {
        await trx
          .insertInto("stream_instances")
          .values({ instance_id: counters.instanceId, ...totals })
          .onConflict((conflict) => conflict.column("instance_id").doUpdateSet({ ...totals, heartbeat_at: sql<Date>`now()` }))
          .execute();
        await trx.deleteFrom("stream_tenant_streams").where("instance_id", "=", counters.instanceId).execute();
        const tenantRows = [...counters.openByTenant].map(([tenantId, count]) => ({ instance_id: counters.instanceId, tenant_id: tenantId, open_streams: count }));
        if (tenantRows.length > 0) await trx.insertInto("stream_tenant_streams").values(tenantRows).execute();
        const samples = counters.newTtftSamples.map((ms) => ({ instance_id: counters.instanceId, ttft_ms: Math.max(0, Math.round(ms)) }));
        if (samples.length > 0) await trx.insertInto("ttft_samples").values(samples).execute();
        await trx.deleteFrom("ttft_samples").where("recorded_at", "<", ago(options.ttftWindowMs)).execute();
        await trx.deleteFrom("stream_instances").where("heartbeat_at", "<", ago(options.pruneAfterMs)).execute();
      });
    },

    /** Removes this instance at shutdown, so it stops counting at once instead of after its heartbeat expires. */
    async remove(instanceId: string): Promise<void> {
      await withSystem(system, (trx) => trx.deleteFrom("stream_instances").where("instance_id", "=", instanceId).execute());
    },

    /** Live instances' counters, the caller's tenant's share of them, and TTFT percentiles over the recent window. */
    async read(tenantId: string): Promise<ClusterReport> {
      const live = ago(options.liveForMs);
      const { instances, streaming, ttft } = await withSystem(system, async (trx) => {
        const instances = await trx.selectFrom("stream_instances").selectAll().where("heartbeat_at", ">=", live).orderBy("started_at").orderBy("instance_id").execute();
        const streaming = await trx
          .selectFrom("stream_tenant_streams")
          .innerJoin("stream_instances", "stream_instances.instance_id", "stream_tenant_streams.instance_id")
          .select(sql<string | number>`count(distinct stream_tenant_streams.tenant_id)`.as("tenants"))
          .where("stream_instances.heartbeat_at", ">=", live)
          .where("stream_tenant_streams.open_streams", ">", 0)
          .executeTakeFirst();
        const recent = trx
          .selectFrom("ttft_samples")
          .select("ttft_ms")
          .where("recorded_at", ">=", ago(options.ttftWindowMs))
          .orderBy("id", "desc")
          .limit(options.ttftMaxSamples)
          .as("recent");
        const ttft = await trx
          .selectFrom(recent)
          .select([
            sql<number | null>`percentile_disc(0.5) within group (order by recent.ttft_ms)`.as("median"),
            sql<number | null>`percentile_disc(0.95) within group (order by recent.ttft_ms)`.as("p95"),
            sql<string | number>`count(*)`.as("samples"),
          ])
          .executeTakeFirst();
        return { instances, streaming, ttft };
      });
      const own = await withTenant(system, tenantId, (trx) => trx.selectFrom("stream_tenant_streams").select(["instance_id", "open_streams"]).execute());
      const ownByInstance = new Map(own.map((row) => [row.instance_id, row.open_streams]));
      return {
        instances: instances.map((row) => ({
          id: row.instance_id,
          openStreams: row.open_streams,
          tenantOpenStreams: ownByInstance.get(row.instance_id) ?? 0,
          streamsStarted: toNumber(row.streams_started),
          eventsSent: toNumber(row.events_sent),
          resumes: toNumber(row.resumes),
          startedAt: row.started_at.toISOString(),
          heartbeatAt: row.heartbeat_at.toISOString(),
        })),
        tenantsStreaming: toNumber(streaming?.tenants),
        ttftMs: {
          median: ttft?.median ?? null,
          p95: ttft?.p95 ?? null,
          samples: toNumber(ttft?.samples),
          windowSeconds: Math.round(options.ttftWindowMs / 1000),
        },
      };
    },
  };
}

export type StreamStatsStore = ReturnType<typeof createStreamStatsStore>;
