import { AppError, UUID_PATTERN, type ScheduleFields, type ScheduleFiring, type ScheduleView } from "@workforce/protocol";
import type { Selectable } from "kysely";
import type { ScheduleFiringsTable, SchedulesTable, TenantTransaction } from "../../db/schema";
import type { ScheduleTiming } from "./schedule-timing";

/** Schedules an agent may have, and an organisation: enough for any real use, a wall against floods. */
export const MAX_SCHEDULES_PER_AGENT = 100;
export const MAX_SCHEDULES_PER_TENANT = 500;

export type ScheduleRow = Selectable<SchedulesTable>;
export type FiringRow = Selectable<ScheduleFiringsTable>;

export const scheduleNotFound = () => new AppError("schedule_not_found", "No such schedule");

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** The stored timing of a schedule row. */
export function timingOf(row: Pick<ScheduleRow, "kind" | "cron" | "at" | "every_seconds" | "timezone">): ScheduleTiming {
  return { kind: row.kind, cron: row.cron, at: row.at === null ? null : new Date(row.at), everySeconds: row.every_seconds, timezone: row.timezone };
}

/** The session a firing goes to: the schedule's own, or one per firing (so a retried firing finds its session again). */
export function sessionKeyOf(row: Pick<ScheduleRow, "session_mode" | "session_key">, firingId: string): string {
  return row.session_mode === "fixed" && row.session_key ? row.session_key : `schedule-${firingId}`;
}

export function firingView(row: FiringRow): ScheduleFiring {
  return {
    id: row.id,
    scheduleId: row.schedule_id,
    scheduledFor: new Date(row.scheduled_for).toISOString(),
    status: row.status,
    manual: row.manual,
    requestedBy: row.requested_by,
    missed: row.missed_count > 0 && row.missed_from ? { count: row.missed_count, from: new Date(row.missed_from).toISOString() } : null,
    sessionKey: row.session_key,
    runId: row.run_id,
    error: row.error_code ? { code: row.error_code, message: row.error_message ?? row.error_code } : null,
    firedAt: iso(row.fired_at),
    endedAt: iso(row.ended_at),
    usage: row.input_tokens === null || row.output_tokens === null ? null : { inputTokens: row.input_tokens, outputTokens: row.output_tokens },
  };
}

/** What the API sets of a schedule, as stored: what a PATCH is merged into, and what views and the export show. */
export function scheduleFields(row: ScheduleRow): ScheduleFields {
  return {
    name: row.name,
    kind: row.kind,
    cron: row.cron,
    at: iso(row.at),
    everyMinutes: row.every_seconds === null ? null : row.every_seconds / 60,
    timezone: row.timezone,
    message: row.message,
    sessionMode: row.session_mode,
    sessionKey: row.session_key,
    catchUp: row.catch_up,
    enabled: row.enabled,
  };
}

export function scheduleView(row: ScheduleRow, extra: { creatorEmail: string | null; lastFiring: FiringRow | undefined }): ScheduleView {
  return {
    id: row.id,
    agent: row.agent_slug,
    ...scheduleFields(row),
    nextFireAt: iso(row.next_fire_at),
    createdBy: row.created_by && extra.creatorEmail ? { userId: row.created_by, email: extra.creatorEmail } : null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    lastFiring: extra.lastFiring ? firingView(extra.lastFiring) : null,
  };
}

/** The agent's schedules (or one), with their creators' emails and latest firings, oldest first. */
export async function readSchedules(trx: TenantTransaction, tenantId: string, agent: string, id?: string): Promise<ScheduleView[]> {
  let query = trx.selectFrom("schedules").selectAll().where("tenant_id", "=", tenantId).where("agent_slug", "=", agent);
  if (id !== undefined) query = query.where("id", "=", id);
  const rows = await query.orderBy("created_at").orderBy("id").execute();
  if (rows.length === 0) return [];
  const ids = rows.map((row) => row.id);
  const creators = [...new Set(rows.flatMap((row) => (row.created_by ? [row.created_by] : [])))];
  const emails = creators.length ? await trx.selectFrom("users").select(["id", "email"]).where("id", "in", creators).execute() : [];
  const latest = await trx
    .selectFrom("schedule_firings")
    .selectAll()
    .distinctOn("schedule_id")
    .where("tenant_id", "=", tenantId)
    .where("schedule_id", "in", ids)
    .orderBy("schedule_id")
    .orderBy("scheduled_for", "desc")
    .orderBy("created_at", "desc")
    .execute();
  const emailOf = new Map(emails.map((user) => [user.id, user.email]));
  const latestOf = new Map(latest.map((firing) => [firing.schedule_id, firing]));
  return rows.map((row) => scheduleView(row, { creatorEmail: row.created_by ? (emailOf.get(row.created_by) ?? null) : null, lastFiring: latestOf.get(row.id) }));
}

/** One schedule row of the agent's, locked for a change; 404 schedule_not_found when it is not (also another organisation's). */
export async function lockSchedule(trx: TenantTransaction, tenantId: string, agent: string, id: string): Promise<ScheduleRow> {
  if (!UUID_PATTERN.test(id)) throw scheduleNotFound();
  const row = await trx.selectFrom("schedules").selectAll().where("tenant_id", "=", tenantId).where("agent_slug", "=", agent).where("id", "=", id).forUpdate().executeTakeFirst();
  if (!row) throw scheduleNotFound();
  return row;
}

/** An agent the platform knows in this organisation; 404 agent_not_found otherwise (another organisation's too). */
export async function requireAgent(trx: TenantTransaction, tenantId: string, slug: string): Promise<void> {
  const agent = await trx.selectFrom("agents").select("slug").where("tenant_id", "=", tenantId).where("slug", "=", slug).executeTakeFirst();
  if (!agent) throw new AppError("agent_not_found", `No agent named "${slug}"`);
}

/** Firings newest first after a cursor (`{scheduledFor}|{id}` of the last one seen). */
export function encodeCursor(row: FiringRow): string {
  return Buffer.from(`${new Date(row.scheduled_for).toISOString()}|${row.id}`).toString("base64url");
}
export function decodeCursor(cursor: string): { scheduledFor: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const scheduledFor = new Date(at ?? "");
  if (!id || !UUID_PATTERN.test(id) || Number.isNaN(scheduledFor.getTime())) throw new AppError("validation_failed", "cursor: not one this API gave");
  return { scheduledFor, id };
}
