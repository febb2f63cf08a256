import { AppError, type UsageDisk } from "@workforce/protocol";
import { Hono } from "hono";
import { sql } from "kysely";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { UsageIngest } from "../tenancy/usage-ingest";
import type { GatewayClient } from "../gateway-client";
import type { UsageRecorder } from "../usage-recorder";
import { parseWith } from "../validation";

const Days = z.coerce.number({ message: "must be a number" }).int().min(1).max(366).default(30);

interface UsageCounts {
  runs: number;
  inputTokens: number;
  outputTokens: number;
}

/** How long the usage answer waits for the gateway's disk figure before saying it is unavailable. */
const DISK_TIMEOUT_MS = 5_000;

/** The organisation's disk use from the gateway; a gateway that cannot answer is told, never fails the usage answer. */
async function diskOf(gateway: Pick<GatewayClient, "tenantDisk">, tenantId: string): Promise<UsageDisk> {
  try {
    return await gateway.tenantDisk(tenantId, DISK_TIMEOUT_MS);
  } catch (error) {
    const known = error instanceof AppError ? error : new AppError("gateway_unavailable", "The agent gateway is not reachable right now");
    return { usedBytes: null, quotaBytes: null, error: { code: known.code, message: `Disk use is unknown: ${known.message}` } };
  }
}

/**
 * `GET /api/usage?days=30`: token usage of the organisation's runs, totals and per agent (with the
 * share of runs that used the organisation's own model key), and its disk use on the gateway.
 */
export function usageRoutes(deps: { db: Database; now: () => Date; usage?: UsageRecorder; ingest?: Pick<UsageIngest, "sync">; gateway: Pick<GatewayClient, "tenantDisk"> }) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("usage.read", async (c, { tenantId }) => {
    const days = parseWith(Days, c.req.query("days"), "days");
    const disk = diskOf(deps.gateway, tenantId);
    // Runs that ended here moments ago are still in the recorder's batch; runs of every entry
    // point are in the gateway's journal, ingested now up to its end.
    await deps.usage?.flush();
    await deps.ingest?.sync(tenantId);
    const since = new Date(deps.now().getTime() - days * 86_400_000);
    const rows = await withTenant(deps.db, tenantId, (trx) =>
      trx
        .selectFrom("usage_events")
        .select([
          "agent_slug",
          sql<string>`count(*)::text`.as("runs"),
          sql<string>`coalesce(sum(input_tokens), 0)::text`.as("input_tokens"),
          sql<string>`coalesce(sum(output_tokens), 0)::text`.as("output_tokens"),
          sql<string>`count(*) filter (where key_source = 'organisation')::text`.as("own_runs"),
          sql<string>`coalesce(sum(input_tokens) filter (where key_source = 'organisation'), 0)::text`.as("own_input_tokens"),
          sql<string>`coalesce(sum(output_tokens) filter (where key_source = 'organisation'), 0)::text`.as("own_output_tokens"),
        ])
        .where("created_at", ">=", since)
        .groupBy("agent_slug")
        .orderBy("agent_slug")
        .execute(),
    );
    const byAgent = rows.map((row) => ({
      agent: row.agent_slug,
      runs: Number(row.runs),
      inputTokens: Number(row.input_tokens),
      outputTokens: Number(row.output_tokens),
      organisationKey: { runs: Number(row.own_runs), inputTokens: Number(row.own_input_tokens), outputTokens: Number(row.own_output_tokens) },
    }));
    const add = (a: UsageCounts, b: UsageCounts): UsageCounts => ({ runs: a.runs + b.runs, inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens });
    const none: UsageCounts = { runs: 0, inputTokens: 0, outputTokens: 0 };
    const totals = byAgent.reduce((sum, row) => ({ ...add(sum, row), organisationKey: add(sum.organisationKey, row.organisationKey) }), { ...none, organisationKey: none });
    return c.json({ since: since.toISOString(), days, totals, byAgent, disk: await disk });
  });
  return app;
}
