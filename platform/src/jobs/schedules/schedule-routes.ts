import { AppError, FiringListQuery, ScheduleFields, ScheduleInput, ScheduleUpdate, UUID_PATTERN } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../../app-env";
import { operationRoutes } from "../../auth/operation-route";
import { audit } from "../../db/audit";
import type { Database, TenantTransaction } from "../../db/schema";
import { withTenant } from "../../db/scopes";
import { agentSlug } from "../../routes/agents";
import { parseWith, readJson } from "../../validation";
import { insertFiring } from "./schedule-firing";
import {
  decodeCursor,
  encodeCursor,
  firingView,
  lockSchedule,
  MAX_SCHEDULES_PER_AGENT,
  MAX_SCHEDULES_PER_TENANT,
  readSchedules,
  requireAgent,
  scheduleFields,
  scheduleNotFound,
} from "./schedule-store";
import { checkTiming, firstFireAt, type ScheduleTiming } from "./schedule-timing";

export interface ScheduleRouteDeps {
  db: Database;
  now: () => Date;
}

/** Everything a stored schedule holds that the API sets, checked as a whole. */
const CompleteSchedule = ScheduleFields;
type CompleteSchedule = ScheduleFields;

function storedColumns(schedule: CompleteSchedule, timing: ScheduleTiming) {
  return {
    name: schedule.name,
    kind: timing.kind,
    cron: timing.cron,
    at: timing.at,
    every_seconds: timing.everySeconds,
    timezone: timing.timezone,
    message: schedule.message,
    session_mode: schedule.sessionMode,
    session_key: schedule.sessionMode === "fixed" ? schedule.sessionKey : null,
    catch_up: schedule.catchUp,
    enabled: schedule.enabled,
  };
}

function checkSession(schedule: CompleteSchedule): void {
  if (schedule.sessionMode === "fixed" && !schedule.sessionKey) throw new AppError("invalid_schedule", 'A schedule with sessionMode "fixed" needs a sessionKey: the session every firing goes to');
  if (schedule.sessionMode === "new" && schedule.sessionKey) throw new AppError("invalid_schedule", 'A schedule with sessionMode "new" starts a session per firing; leave sessionKey out');
}

async function assertRoom(trx: TenantTransaction, tenantId: string, agent: string): Promise<void> {
  const counts = await trx
    .selectFrom("schedules")
    .select((eb) => [eb.fn.countAll<string | number>().as("all"), eb.fn.count<string | number>(eb.case().when("agent_slug", "=", agent).then(1).end()).as("agent")])
    .where("tenant_id", "=", tenantId)
    .executeTakeFirstOrThrow();
  if (Number(counts.agent) >= MAX_SCHEDULES_PER_AGENT) throw new AppError("schedule_limit_reached", `An agent may have at most ${MAX_SCHEDULES_PER_AGENT} schedules; delete one first`);
  if (Number(counts.all) >= MAX_SCHEDULES_PER_TENANT) throw new AppError("schedule_limit_reached", `An organisation may have at most ${MAX_SCHEDULES_PER_TENANT} schedules; delete one first`);
}

/** An agent's schedules (issue 15): owners and admins set them up, everyone may see them and their firings. */
export function scheduleRoutes(deps: ScheduleRouteDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  async function one(trx: TenantTransaction, tenantId: string, agent: string, id: string) {
    const [view] = await readSchedules(trx, tenantId, agent, id);
    if (!view) throw scheduleNotFound();
    return view;
  }

  route("schedules.list", async (c, { tenantId }) => {
    const agent = agentSlug(c.req.param("slug"));
    const schedules = await withTenant(deps.db, tenantId, async (trx) => {
      await requireAgent(trx, tenantId, agent);
      return readSchedules(trx, tenantId, agent);
    });
    return c.json({ schedules });
  });

  route("schedules.get", async (c, { tenantId }) => {
    const agent = agentSlug(c.req.param("slug"));
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id)) throw scheduleNotFound();
    const schedule = await withTenant(deps.db, tenantId, async (trx) => {
      await requireAgent(trx, tenantId, agent);
      return one(trx, tenantId, agent, id);
    });
    return c.json({ schedule });
  });

  route("schedules.create", async (c, { tenantId, actor }) => {
    const agent = agentSlug(c.req.param("slug"));
    const input = await readJson(c, ScheduleInput);
    const schedule: CompleteSchedule = { ...input, cron: input.cron ?? null, at: input.at ?? null, everyMinutes: input.everyMinutes ?? null, sessionKey: input.sessionKey ?? null };
    checkSession(schedule);
    const now = deps.now();
    const timing = checkTiming(schedule, now, { requireFuture: true });
    const view = await withTenant(deps.db, tenantId, async (trx) => {
      await requireAgent(trx, tenantId, agent);
      await assertRoom(trx, tenantId, agent);
      const row = await trx
        .insertInto("schedules")
        .values({
          tenant_id: tenantId,
          agent_slug: agent,
          ...storedColumns(schedule, timing),
          next_fire_at: schedule.enabled ? firstFireAt(timing, now) : null,
          created_by: actor.userId,
          updated_by: actor.userId,
          created_at: now,
          updated_at: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "schedule.create", target: `${agent}/${row.id}`, details: { name: schedule.name, kind: timing.kind, enabled: schedule.enabled } });
      return one(trx, tenantId, agent, row.id);
    });
    return c.json({ schedule: view }, 201);
  });

  route("schedules.update", async (c, { tenantId, actor }) => {
    const agent = agentSlug(c.req.param("slug"));
    const patch = await readJson(c, ScheduleUpdate);
    const now = deps.now();
    const view = await withTenant(deps.db, tenantId, async (trx) => {
      await requireAgent(trx, tenantId, agent);
      const row = await lockSchedule(trx, tenantId, agent, c.req.param("id"));
      const before = scheduleFields(row);
      // A new kind replaces the timing: the other kinds' fields are dropped unless given.
      const kindChanged = patch.kind !== undefined && patch.kind !== row.kind;
      const merged = parseWith(CompleteSchedule, {
        ...before,
        ...(kindChanged ? { cron: null, at: null, everyMinutes: null } : {}),
        ...(patch.sessionMode === "new" ? { sessionKey: null } : {}),
        ...patch,
      });
      checkSession(merged);
      const timingChanged = ["kind", "cron", "at", "everyMinutes", "timezone"].some((field) => field in patch && patch[field as keyof typeof patch] !== before[field as keyof CompleteSchedule]);
      const turnedOn = merged.enabled && !row.enabled;
      // An `at` time must be ahead when it is set or turned on again; an unchanged one that has fired may stay as history.
      const timing = checkTiming(merged, now, { requireFuture: merged.kind === "at" && (timingChanged || turnedOn) });
      // Changed timing, or turned on: it is due next from now on (no catch-up for the time it was off).
      const nextFireAt = !merged.enabled ? null : timingChanged || turnedOn ? firstFireAt(timing, now) : row.next_fire_at;
      await trx
        .updateTable("schedules")
        .set({ ...storedColumns(merged, timing), next_fire_at: nextFireAt, updated_by: actor.userId, updated_at: now })
        .where("tenant_id", "=", tenantId)
        .where("id", "=", row.id)
        .execute();
      const changed = Object.keys(patch).filter((field) => JSON.stringify(patch[field as keyof typeof patch]) !== JSON.stringify(before[field as keyof CompleteSchedule]));
      const action = changed.length === 1 && changed[0] === "enabled" ? (merged.enabled ? "schedule.enable" : "schedule.disable") : "schedule.update";
      await audit(trx, { tenantId, actor, action, target: `${agent}/${row.id}`, details: { name: merged.name, fields: changed } });
      return one(trx, tenantId, agent, row.id);
    });
    return c.json({ schedule: view });
  });

  route("schedules.delete", async (c, { tenantId, actor }) => {
    const agent = agentSlug(c.req.param("slug"));
    await withTenant(deps.db, tenantId, async (trx) => {
      await requireAgent(trx, tenantId, agent);
      const row = await lockSchedule(trx, tenantId, agent, c.req.param("id"));
      // Its firings go with it; a fire job still queued finds nothing and ends.
      await trx.deleteFrom("schedules").where("tenant_id", "=", tenantId).where("id", "=", row.id).execute();
      await audit(trx, { tenantId, actor, action: "schedule.delete", target: `${agent}/${row.id}`, details: { name: row.name } });
    });
    return c.body(null, 204);
  });

  route("schedules.run", async (c, { tenantId, actor }) => {
    const agent = agentSlug(c.req.param("slug"));
    const now = deps.now();
    const firing = await withTenant(deps.db, tenantId, async (trx) => {
      await requireAgent(trx, tenantId, agent);
      const row = await lockSchedule(trx, tenantId, agent, c.req.param("id"));
      // The same way as a timed firing: a firing row (now) and its fire job.
      const id = await insertFiring(trx, row, { scheduledFor: now, status: "pending", missedCount: 0, missedFrom: null, errorMessage: null, manual: true, requestedBy: actor.userId }, now);
      if (!id) throw new AppError("conflict", "This schedule was just run; try again in a moment", { retryable: true });
      await audit(trx, { tenantId, actor, action: "schedule.run", target: `${agent}/${row.id}`, details: { name: row.name, firingId: id } });
      return trx.selectFrom("schedule_firings").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    });
    return c.json({ firing: firingView(firing) }, 202);
  });

  route("schedules.firings", async (c, { tenantId }) => {
    const agent = agentSlug(c.req.param("slug"));
    const id = c.req.param("id");
    const query = parseWith(FiringListQuery, c.req.query(), "query ");
    const page = await withTenant(deps.db, tenantId, async (trx) => {
      await requireAgent(trx, tenantId, agent);
      if (!UUID_PATTERN.test(id)) throw scheduleNotFound();
      const schedule = await trx.selectFrom("schedules").select("id").where("tenant_id", "=", tenantId).where("agent_slug", "=", agent).where("id", "=", id).executeTakeFirst();
      if (!schedule) throw scheduleNotFound();
      let select = trx.selectFrom("schedule_firings").selectAll().where("tenant_id", "=", tenantId).where("schedule_id", "=", id);
      if (query.cursor) {
        const after = decodeCursor(query.cursor);
        select = select.where((eb) => eb.or([eb("scheduled_for", "<", after.scheduledFor), eb.and([eb("scheduled_for", "=", after.scheduledFor), eb("id", "<", after.id)])]));
      }
      return select.orderBy("scheduled_for", "desc").orderBy("id", "desc").limit(query.limit + 1).execute();
    });
    const more = page.length > query.limit;
    const rows = page.slice(0, query.limit);
    return c.json({ firings: rows.map(firingView), nextCursor: more && rows.length ? encodeCursor(rows[rows.length - 1]!) : null });
  });

  route("schedules.agent-firings", async (c, { tenantId }) => {
    const agent = agentSlug(c.req.param("slug"));
    const query = parseWith(FiringListQuery, c.req.query(), "query ");
    const page = await withTenant(deps.db, tenantId, async (trx) => {
      await requireAgent(trx, tenantId, agent);
      let select = trx
        .selectFrom("schedule_firings")
        .innerJoin("schedules", "schedules.id", "schedule_firings.schedule_id")
        .selectAll("schedule_firings")
        .select("schedules.name as schedule_name")
        .where("schedule_firings.tenant_id", "=", tenantId)
        .where("schedules.agent_slug", "=", agent);
      if (query.cursor) {
        const after = decodeCursor(query.cursor);
        select = select.where((eb) =>
          eb.or([eb("schedule_firings.scheduled_for", "<", after.scheduledFor), eb.and([eb("schedule_firings.scheduled_for", "=", after.scheduledFor), eb("schedule_firings.id", "<", after.id)])]),
        );
      }
      return select.orderBy("schedule_firings.scheduled_for", "desc").orderBy("schedule_firings.id", "desc").limit(query.limit + 1).execute();
    });
    const more = page.length > query.limit;
    const rows = page.slice(0, query.limit);
    return c.json({
      firings: rows.map((row) => ({ ...firingView(row), scheduleName: row.schedule_name })),
      nextCursor: more && rows.length ? encodeCursor(rows[rows.length - 1]!) : null,
    });
  });

  return app;
}
