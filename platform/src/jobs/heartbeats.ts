import { AppError, DEFAULT_HEARTBEAT_PROMPT, type ErrorDetail, type HeartbeatActiveHours } from "@workforce/protocol";
import { sql, type Selectable } from "kysely";
import { z } from "zod";
import type { AgentHeartbeatsTable, Database, SystemDatabase, TenantTransaction } from "../db/schema";
import { withSystem, withTenant } from "../db/scopes";
import { nextWithinActiveHours, withinActiveHours } from "./active-hours";
import type { FirePlatformRun, PlatformRunOutcome } from "./fire-run";
import { enqueueJob, type Job, type JobResult, type JobRunner } from "./job-queue";

/*
 * Heartbeats (issue 15): every N minutes, within its active hours, the platform wakes an agent to
 * follow its HEARTBEAT.md. A tick (one job row, so one process at a time) claims the due rows with
 * `FOR UPDATE SKIP LOCKED`, moves each to its next due time and enqueues one firing job per due
 * time, deduplicated by `heartbeat:{tenant}:{agent}:{dueAt}`: a due time fires once however many
 * platform processes tick. The firing starts the run through `firePlatformRun` (the member's
 * message's way: budget, suspension, integrations, session owner) with the same key as its
 * idempotency key, so a firing job run twice joins its first run. Refusals are recorded, never
 * dropped; outcomes come back through the usage journal (heartbeat-outcomes.ts).
 */

export const HEARTBEAT_TICK_JOB = "heartbeats.tick";
export const HEARTBEAT_FIRE_JOB = "heartbeat.fire";
/** How often due heartbeats are looked for: a heartbeat fires at most this late. */
export const DEFAULT_HEARTBEAT_TICK_MS = 15_000;
/** Due rows claimed per transaction of a tick. */
const TICK_BATCH = 100;

export type HeartbeatRow = Selectable<AgentHeartbeatsTable>;

export interface HeartbeatDeps {
  db: Database;
  system: SystemDatabase;
  now: () => Date;
  firePlatformRun: FirePlatformRun;
}

export function activeHoursOf(row: Pick<HeartbeatRow, "active_start" | "active_end">): HeartbeatActiveHours | null {
  return row.active_start && row.active_end ? { start: row.active_start, end: row.active_end } : null;
}

/** The first time at or after `from` inside the heartbeat's active hours. */
export function alignedDue(row: Pick<HeartbeatRow, "active_start" | "active_end" | "time_zone">, from: Date): Date {
  return nextWithinActiveHours(from, activeHoursOf(row), row.time_zone);
}

/**
 * The due time after a firing due at `dueAt`: one period later, or one period from now when that
 * is already past (the platform was down: missed heartbeats are not made up, one is enough).
 */
export function dueAfterFiring(row: Pick<HeartbeatRow, "every_minutes" | "active_start" | "active_end" | "time_zone">, dueAt: Date, now: Date): Date {
  const period = row.every_minutes * 60_000;
  const next = dueAt.getTime() + period;
  return alignedDue(row, new Date(next > now.getTime() ? next : now.getTime() + period));
}

/** The firing job's dedupe key, and its run's idempotency key. */
export const firingKey = (tenantId: string, agent: string, dueAt: Date) => `heartbeat:${tenantId}:${agent}:${dueAt.toISOString()}`;

const FiringPayload = z.object({ heartbeatId: z.string(), agent: z.string(), dueAt: z.string() });

/** Claims due heartbeats across organisations and enqueues their firings; answers how many fired. */
export async function tickHeartbeats(deps: Pick<HeartbeatDeps, "system" | "now">): Promise<number> {
  let fired = 0;
  for (;;) {
    const now = deps.now();
    const claimed = await withSystem(deps.system, async (trx) => {
      const due = await trx
        .selectFrom("agent_heartbeats")
        .selectAll()
        .where("enabled", "=", true)
        .where("next_due_at", "<=", now)
        .orderBy("next_due_at")
        .limit(TICK_BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const row of due) {
        const dueAt = new Date(row.next_due_at ?? now);
        let next: Date;
        if (withinActiveHours(now, activeHoursOf(row), row.time_zone)) {
          const payload = { heartbeatId: row.id, agent: row.agent_slug, dueAt: dueAt.toISOString() };
          if (await enqueueJob(trx, { kind: HEARTBEAT_FIRE_JOB, tenantId: row.tenant_id, key: firingKey(row.tenant_id, row.agent_slug, dueAt), payload, runAt: now, maxAttempts: 3 })) fired += 1;
          next = dueAfterFiring(row, dueAt, now);
        } else {
          // Outside its hours (they changed, or it fell due in the night): nothing fires, it waits for the window.
          next = alignedDue(row, now);
        }
        await trx.updateTable("agent_heartbeats").set({ next_due_at: next }).where("tenant_id", "=", row.tenant_id).where("agent_slug", "=", row.agent_slug).execute();
      }
      return due.length;
    });
    if (claimed < TICK_BATCH) return fired;
  }
}

/** Records a firing that never became a run (refused, or failed to start), once per due time. */
async function recordUnstarted(trx: TenantTransaction, row: HeartbeatRow, dueAt: Date, outcome: "refused" | "failed", error: ErrorDetail, at: Date): Promise<void> {
  const counter = outcome === "refused" ? "refused_count" : "failed_count";
  await trx
    .updateTable("agent_heartbeats")
    .set({
      [counter]: sql<number>`${sql.ref(counter)} + 1`,
      last_outcome: outcome,
      last_at: at,
      last_run_id: null,
      last_error_code: error.code.slice(0, 100),
      last_error_message: error.message.slice(0, 500),
      last_due_at: dueAt,
    })
    .where("tenant_id", "=", row.tenant_id)
    .where("id", "=", row.id)
    .where(sql<boolean>`last_due_at is distinct from ${dueAt}`)
    .execute();
}

/** Starts one heartbeat run through the member's message's way, and records what became of the firing. */
export async function fireHeartbeat(deps: Pick<HeartbeatDeps, "db" | "now" | "firePlatformRun">, row: HeartbeatRow, dueAt: Date, options: { actorUserId: string | null; firingId: string; idempotencyKey: string }): Promise<PlatformRunOutcome> {
  const outcome = await deps.firePlatformRun({
    tenantId: row.tenant_id,
    agent: row.agent_slug,
    sessionKey: row.session_key,
    message: DEFAULT_HEARTBEAT_PROMPT,
    idempotencyKey: options.idempotencyKey,
    trigger: { kind: "heartbeat", id: row.id, firingId: options.firingId },
    actorUserId: options.actorUserId,
    extra: { heartbeat: true },
  });
  await withTenant(deps.db, row.tenant_id, async (trx) => {
    if (outcome.status === "refused") return recordUnstarted(trx, row, dueAt, "refused", outcome.error, deps.now());
    // Its outcome comes with its usage record; until then the firing is known by its run.
    await trx.updateTable("agent_heartbeats").set({ last_run_id: outcome.run.runId, last_due_at: dueAt }).where("tenant_id", "=", row.tenant_id).where("id", "=", row.id).execute();
  });
  return outcome;
}

/** The firing job: a heartbeat turned off (or its agent deleted) since the tick fires nothing. */
async function runFiring(deps: HeartbeatDeps, job: Job): Promise<JobResult> {
  const payload = FiringPayload.parse(job.payload);
  const tenantId = job.tenantId;
  if (!tenantId) return;
  const row = await withTenant(deps.db, tenantId, (trx) => trx.selectFrom("agent_heartbeats").selectAll().where("tenant_id", "=", tenantId).where("id", "=", payload.heartbeatId).executeTakeFirst());
  if (!row?.enabled) return;
  const dueAt = new Date(payload.dueAt);
  try {
    await fireHeartbeat(deps, row, dueAt, { actorUserId: row.enabled_by, firingId: payload.dueAt, idempotencyKey: job.key ?? firingKey(tenantId, row.agent_slug, dueAt) });
  } catch (error) {
    // The heartbeat session waits for a member's decision on a tool call: nothing more may run there until then.
    if (error instanceof AppError && error.code === "approval_pending") {
      await withTenant(deps.db, tenantId, (trx) => recordUnstarted(trx, row, dueAt, "refused", { code: error.code, message: error.message }, deps.now()));
      return;
    }
    // A passing failure (the gateway is down) is tried again; the last attempt is recorded as failed.
    if (job.attempt < job.maxAttempts) throw error;
    const detail = error instanceof AppError ? { code: error.code, message: error.message } : { code: "internal_error", message: "The heartbeat could not be started" };
    await withTenant(deps.db, tenantId, (trx) => recordUnstarted(trx, row, dueAt, "failed", detail, deps.now()));
  }
}

/** Registers the tick and the firing job with the platform's job runner. */
export function registerHeartbeats(jobs: JobRunner, deps: HeartbeatDeps, tickMs = DEFAULT_HEARTBEAT_TICK_MS): void {
  jobs.every(HEARTBEAT_TICK_JOB, tickMs, async () => {
    await tickHeartbeats(deps);
  });
  jobs.register(HEARTBEAT_FIRE_JOB, (job) => runFiring(deps, job));
}
