import { AppError, UUID_PATTERN, type ErrorDetail, type UsageRecord } from "@workforce/protocol";
import { sql } from "kysely";
import type { Database, SystemDatabase, SystemTransaction, TenantTransaction } from "../../db/schema";
import { withSystem, withTenant } from "../../db/scopes";
import type { FirePlatformRun } from "../fire-run";
import { enqueueJob, type Job, type JobRunner } from "../job-queue";
import { recordTenantEvent } from "../tenant-events";
import { sessionKeyOf, timingOf, type ScheduleRow } from "./schedule-store";
import { dueTimes } from "./schedule-timing";

/*
 * Firing schedules exactly once across platform processes (issue 15, decision 037):
 *
 * 1. A tick (`schedules.tick`, one job row for the cluster) claims due schedules with
 *    `FOR UPDATE SKIP LOCKED`, and in the same transaction inserts their firings (unique by
 *    schedule and time), advances `next_fire_at` and enqueues one `schedules.fire` job per
 *    firing, keyed by the firing's id.
 * 2. The fire job starts the run through `firePlatformRun` with the idempotency key
 *    `schedule:{firingId}`: a job run twice (its process died) joins the first run on any gateway.
 *    It records `started` with the run id, or `refused` with the reason, and a `schedule.fired` event.
 * 3. The run's end comes back in the usage journal with the firing's id as its trigger; the ingest
 *    reaction here marks the firing `completed` or `failed`.
 */

export const SCHEDULE_TICK_JOB = "schedules.tick";
export const SCHEDULE_FIRE_JOB = "schedules.fire";
export const SCHEDULE_PRUNE_JOB = "schedules.prune";

/** A fire job gives up after this many attempts (about five minutes of backoff): a firing that late is recorded as failed. */
const FIRE_MAX_ATTEMPTS = 6;
/** Schedules claimed per transaction of a tick. */
const TICK_BATCH = 100;
/** Finished firings are kept this long. */
const KEEP_FIRINGS_MS = 90 * 24 * 3_600_000;

export interface ScheduleWorkDeps {
  db: Database;
  system: SystemDatabase;
  now: () => Date;
  firePlatformRun: FirePlatformRun;
  /**
   * A firing time this much in the past is still "on time" (the tick runs every few seconds); one
   * older was missed while no platform ran, and the schedule's catch-up policy applies. Default 1 minute.
   */
  graceMs?: number;
  /** How often the tick runs (default 5 s). */
  tickMs?: number;
}

interface FiringPlan {
  scheduledFor: Date;
  status: "pending" | "skipped";
  missedCount: number;
  missedFrom: Date | null;
  errorMessage: string | null;
}

/**
 * What a due schedule records: at most one firing runs per tick, for the latest time due. Earlier
 * times (and the latest, if it is late and the policy is `skip`) were missed: `skip` records them
 * as one skipped entry, `run_once` folds them into the one firing that runs.
 */
export function planFirings(row: ScheduleRow, now: Date, graceMs: number): { firings: FiringPlan[]; next: Date | null } | undefined {
  if (!row.next_fire_at) return undefined;
  const times = dueTimes(timingOf(row), new Date(row.next_fire_at), now);
  if (!times) return undefined;
  const onTime = now.getTime() - times.last.getTime() <= graceMs;
  const missed = times.count - (onTime ? 1 : 0);
  const window = (count: number, until: Date) =>
    `Missed ${count === 1 ? "this firing" : `${count} firings`} from ${times.first.toISOString()} to ${until.toISOString()} while no platform was running`;
  const firings: FiringPlan[] = [];
  if (row.catch_up === "run_once" || onTime) {
    if (row.catch_up === "skip" && missed > 0) {
      // The missed times end at the one before the latest.
      const until = times.previous ?? times.first;
      firings.push({ scheduledFor: until, status: "skipped", missedCount: missed, missedFrom: times.first, errorMessage: window(missed, until) });
      firings.push({ scheduledFor: times.last, status: "pending", missedCount: 0, missedFrom: null, errorMessage: null });
    } else {
      firings.push({ scheduledFor: times.last, status: "pending", missedCount: missed, missedFrom: missed > 0 ? times.first : null, errorMessage: null });
    }
  } else {
    firings.push({ scheduledFor: times.last, status: "skipped", missedCount: missed, missedFrom: times.first, errorMessage: window(missed, times.last) });
  }
  return { firings, next: times.next };
}

/** Inserts a firing (once per schedule and time) and, when it is to run, its fire job; answers its id, or undefined if that time already has one. */
export async function insertFiring(
  trx: TenantTransaction | SystemTransaction,
  row: Pick<ScheduleRow, "id" | "tenant_id">,
  firing: FiringPlan & { manual?: boolean; requestedBy?: string | null },
  now: Date,
): Promise<string | undefined> {
  const inserted = await trx
    .insertInto("schedule_firings")
    .values({
      tenant_id: row.tenant_id,
      schedule_id: row.id,
      scheduled_for: firing.scheduledFor,
      status: firing.status,
      manual: firing.manual ?? false,
      requested_by: firing.requestedBy ?? null,
      missed_count: firing.missedCount,
      missed_from: firing.missedFrom,
      error_code: firing.status === "skipped" ? "missed" : null,
      error_message: firing.errorMessage,
      created_at: now,
    })
    .onConflict((conflict) => conflict.columns(["schedule_id", "scheduled_for"]).doNothing())
    .returning("id")
    .executeTakeFirst();
  if (!inserted) return undefined;
  if (firing.status === "pending") {
    await enqueueJob(trx, { kind: SCHEDULE_FIRE_JOB, tenantId: row.tenant_id, key: inserted.id, payload: { firingId: inserted.id }, runAt: now, maxAttempts: FIRE_MAX_ATTEMPTS });
  }
  return inserted.id;
}

/** One pass over every organisation's due schedules; answers how many it advanced. */
export async function tickSchedules(deps: Pick<ScheduleWorkDeps, "system" | "now" | "graceMs">): Promise<number> {
  const graceMs = deps.graceMs ?? 60_000;
  let total = 0;
  for (let round = 0; round < 50; round += 1) {
    const handled = await withSystem(deps.system, async (trx) => {
      const now = deps.now();
      const due = await trx
        .selectFrom("schedules")
        .selectAll()
        .where("enabled", "=", true)
        .where("next_fire_at", "<=", now)
        .orderBy("next_fire_at")
        .limit(TICK_BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of due) await advance(trx, row, now, graceMs);
      return due.length;
    });
    total += handled;
    if (handled < TICK_BATCH) break;
  }
  return total;
}

async function advance(trx: SystemTransaction, row: ScheduleRow, now: Date, graceMs: number): Promise<void> {
  let plan: ReturnType<typeof planFirings>;
  try {
    plan = planFirings(row, now, graceMs);
  } catch (error) {
    // A stored expression that no longer parses (it was checked when saved): turn it off rather than fail every tick.
    const message = error instanceof Error ? error.message : String(error);
    await trx.updateTable("schedules").set({ enabled: false, next_fire_at: null }).where("id", "=", row.id).execute();
    await trx
      .insertInto("schedule_firings")
      .values({ tenant_id: row.tenant_id, schedule_id: row.id, scheduled_for: row.next_fire_at ?? now, status: "failed", error_code: "invalid_schedule", error_message: message.slice(0, 2_000), created_at: now })
      .onConflict((conflict) => conflict.columns(["schedule_id", "scheduled_for"]).doNothing())
      .execute();
    return;
  }
  if (!plan) return;
  for (const firing of plan.firings) await insertFiring(trx, row, firing, now);
  // An `at` schedule has fired (or been missed) for good: it turns itself off.
  const done = row.kind === "at";
  await trx
    .updateTable("schedules")
    .set({ next_fire_at: done ? null : plan.next, ...(done ? { enabled: false } : {}) })
    .where("id", "=", row.id)
    .execute();
}

type FireOutcome = { status: "started"; runId: string } | { status: "refused" | "failed" | "skipped"; error: ErrorDetail };

/** The `schedules.fire` job: starts the firing's run (once, whatever happens to the process) and records how it went. */
export async function fireFiring(deps: Pick<ScheduleWorkDeps, "db" | "now" | "firePlatformRun">, job: Job): Promise<void> {
  const tenantId = job.tenantId;
  const firingId = typeof job.payload.firingId === "string" ? job.payload.firingId : "";
  if (!tenantId || !UUID_PATTERN.test(firingId)) return;
  const found = await withTenant(deps.db, tenantId, async (trx) => {
    const firing = await trx.selectFrom("schedule_firings").selectAll().where("tenant_id", "=", tenantId).where("id", "=", firingId).executeTakeFirst();
    if (!firing || firing.status !== "pending") return undefined;
    const schedule = await trx.selectFrom("schedules").selectAll().where("tenant_id", "=", tenantId).where("id", "=", firing.schedule_id).executeTakeFirst();
    if (!schedule) return undefined;
    const sessionKey = sessionKeyOf(schedule, firingId);
    const member = schedule.created_by
      ? await trx.selectFrom("memberships").select("role").where("tenant_id", "=", tenantId).where("user_id", "=", schedule.created_by).executeTakeFirst()
      : undefined;
    const owner = await trx
      .selectFrom("session_owners")
      .select(["user_id", "api_key_id"])
      .where("tenant_id", "=", tenantId)
      .where("agent_slug", "=", schedule.agent_slug)
      .where("session_key", "=", sessionKey)
      .executeTakeFirst();
    return { firing, schedule, sessionKey, member, owner };
  });
  // Deleted with its schedule, or already fired (this job ran before and recorded it).
  if (!found) return;
  const { firing, schedule, sessionKey } = found;

  let outcome: FireOutcome;
  if (!firing.manual && !schedule.enabled) {
    outcome = { status: "skipped", error: { code: "schedule_disabled", message: "The schedule was turned off before this firing ran" } };
  } else if (!found.member || !schedule.created_by) {
    outcome = { status: "refused", error: { code: "forbidden", message: "The member who created this schedule is no longer in the organisation; an owner or admin should create it again" } };
  } else if (found.owner && (found.owner.api_key_id !== null || (found.owner.user_id !== null && found.owner.user_id !== schedule.created_by))) {
    // A session is its starter's alone to write in (decision 010): a schedule does not post into a colleague's chat.
    outcome = { status: "refused", error: { code: "forbidden", message: `The session "${sessionKey}" belongs to someone else; choose another session for this schedule` } };
  } else {
    try {
      const result = await deps.firePlatformRun({
        tenantId,
        agent: schedule.agent_slug,
        sessionKey,
        message: schedule.message,
        idempotencyKey: `schedule:${firingId}`,
        trigger: { kind: "schedule", id: schedule.id, firingId },
        actorUserId: schedule.created_by,
      });
      outcome = result.status === "started" ? { status: "started", runId: result.run.runId } : { status: "refused", error: result.error };
    } catch (error) {
      // Passing trouble (the gateway away): the job retries with backoff; after the last attempt the firing failed.
      if (job.attempt < job.maxAttempts) throw error;
      const detail = error instanceof AppError ? { code: error.code, message: error.message } : { code: "internal_error", message: "The run could not be started" };
      outcome = { status: "failed", error: detail };
    }
  }

  const now = deps.now();
  await withTenant(deps.db, tenantId, async (trx) => {
    await trx
      .updateTable("schedule_firings")
      .set({
        // The run may have ended (and its outcome been ingested) before this line: keep that outcome.
        status: sql`case when status = 'pending' then ${outcome.status} else status end`,
        run_id: outcome.status === "started" ? sql`coalesce(run_id, ${outcome.runId})` : sql`run_id`,
        session_key: sessionKey,
        fired_at: now,
        ...(outcome.status === "started" ? {} : { error_code: outcome.error.code, error_message: outcome.error.message.slice(0, 2_000) }),
      })
      .where("tenant_id", "=", tenantId)
      .where("id", "=", firingId)
      .execute();
    await recordTenantEvent(trx, tenantId, {
      type: "schedule.fired",
      dedupeKey: `schedule-firing:${firingId}`,
      occurredAt: now,
      data: {
        scheduleId: schedule.id,
        scheduleName: schedule.name,
        agent: schedule.agent_slug,
        firingId,
        scheduledFor: new Date(firing.scheduled_for).toISOString(),
        manual: firing.manual,
        status: outcome.status,
        sessionKey,
        ...(outcome.status === "started" ? { runId: outcome.runId } : { error: outcome.error }),
      },
    });
  });
}

/**
 * Ingest reaction: a run a schedule fired has ended (its usage record names the firing), so the
 * firing is `completed` or `failed`, with its run id and usage, in the ingest's transaction.
 */
export async function recordFiringOutcomes(trx: TenantTransaction, tenantId: string, records: readonly UsageRecord[]): Promise<void> {
  for (const record of records) {
    const firingId = record.trigger?.kind === "schedule" ? record.trigger.firingId : undefined;
    if (!firingId || !UUID_PATTERN.test(firingId)) continue;
    const status = record.status === "ok" ? "completed" : record.status === "error" || record.status === "aborted" ? "failed" : undefined;
    if (!status) continue;
    await trx
      .updateTable("schedule_firings")
      .set({
        status,
        run_id: record.runId,
        ended_at: new Date(record.endedAt),
        input_tokens: record.inputTokens,
        output_tokens: record.outputTokens,
        ...(status === "failed" ? { error_code: record.status === "aborted" ? "aborted" : "run_failed", error_message: record.status === "aborted" ? "The run was aborted" : "The run ended with an error" } : {}),
      })
      .where("tenant_id", "=", tenantId)
      .where("id", "=", firingId)
      .where("status", "in", ["pending", "started"])
      .execute();
  }
}

/** Registers the tick, the fire job and the pruning of old firings with a process's job runner. */
export function registerScheduleWork(jobs: JobRunner, deps: ScheduleWorkDeps): void {
  jobs.every(SCHEDULE_TICK_JOB, deps.tickMs ?? 5_000, async () => {
    await tickSchedules(deps);
  });
  jobs.register(SCHEDULE_FIRE_JOB, (job) => fireFiring(deps, job));
  jobs.every(
    SCHEDULE_PRUNE_JOB,
    3_600_000,
    async () => {
      const before = new Date(deps.now().getTime() - KEEP_FIRINGS_MS);
      await withSystem(deps.system, (trx) => trx.deleteFrom("schedule_firings").where("scheduled_for", "<", before).where("status", "not in", ["pending", "started"]).execute());
    },
    3_600_000,
  );
}
