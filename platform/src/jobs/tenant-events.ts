import type { TenantEvent, TenantEventType } from "@workforce/protocol";
import type { TenantTransaction } from "../db/schema";
import { sql } from "kysely";
import { enqueueJob } from "./job-queue";

/*
 * The outbox of what happens in an organisation (issue 15, decision 035). Producers record an
 * event in the same transaction as the fact it reports, so it exists exactly when the fact does;
 * consumers (outbound webhooks, the web app's live notifications) read it from here.
 */

export interface NewTenantEvent {
  type: TenantEventType;
  /** What happened: ids, names, outcomes; never a secret or a message's full text. */
  data: Record<string, unknown>;
  /** When it happened. */
  occurredAt: Date;
  /** The same fact recorded twice (a retried job, a journal read again) is one event. */
  dedupeKey?: string;
}

/**
 * The job an event gets, in the same transaction, when the organisation has an enabled webhook
 * endpoint subscribed to its type: the fan-out handles it, at least once, after the fact has
 * committed. An event nobody subscribes to gets none (issue 17: a run's end used to cost a job
 * insert, a claim, a handler transaction and a finish with no endpoint to deliver to); an endpoint
 * receives the events recorded while it exists, enabled.
 */
export const EVENT_FANOUT_JOB = "events.fanout";

/** Records an event; answers it, or undefined when one with this dedupe key already exists. */
export async function recordTenantEvent(trx: TenantTransaction, tenantId: string, event: NewTenantEvent): Promise<TenantEvent | undefined> {
  const row = await trx
    .insertInto("tenant_events")
    .values({ tenant_id: tenantId, type: event.type, dedupe_key: event.dedupeKey ?? null, data: JSON.stringify(event.data), occurred_at: event.occurredAt })
    .onConflict((conflict) => conflict.columns(["tenant_id", "dedupe_key"]).doNothing())
    .returning(["id", sql<boolean>`exists (${subscribedEndpoint(trx, tenantId, event.type)})`.as("subscribed")])
    .executeTakeFirst();
  if (!row) return undefined;
  const recorded: TenantEvent = { id: row.id, type: event.type, occurredAt: event.occurredAt.toISOString(), data: event.data };
  if (row.subscribed) await enqueueJob(trx, { kind: EVENT_FANOUT_JOB, tenantId, key: row.id, payload: { eventId: row.id }, runAt: event.occurredAt });
  return recorded;
}

/** The organisation's enabled endpoints that take events of this type (all types when `event_types` is null): what the fan-out delivers to. */
export function subscribedEndpoint(trx: TenantTransaction, tenantId: string, type: string) {
  return trx
    .selectFrom("webhook_endpoints")
    .select("id")
    .where("tenant_id", "=", tenantId)
    .where("enabled", "=", true)
    .where((eb) => eb.or([eb("event_types", "is", null), sql<boolean>`${type} = any(event_types)`]));
}

/** The organisation's events after `afterSeq` (oldest first), for live notifications and tests. */
export async function tenantEventsAfter(trx: TenantTransaction, tenantId: string, afterSeq: number, limit = 100): Promise<(TenantEvent & { seq: number })[]> {
  const rows = await trx
    .selectFrom("tenant_events")
    .select(["id", "seq", "type", "data", "occurred_at"])
    .where("tenant_id", "=", tenantId)
    .where("seq", ">", afterSeq as never)
    .orderBy("seq")
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    seq: Number(row.seq),
    type: row.type as TenantEventType,
    occurredAt: new Date(row.occurred_at).toISOString(),
    data: typeof row.data === "string" ? (JSON.parse(row.data) as Record<string, unknown>) : row.data,
  }));
}
