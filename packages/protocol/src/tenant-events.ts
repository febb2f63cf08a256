import { z } from "zod";

/*
 * What happens in an organisation that it may want to hear about (issue 15): the platform records
 * each event in its `tenant_events` outbox in the same transaction as the fact itself, and fans it
 * out from there (outbound webhooks, the web app's live notifications). `data` never holds a secret.
 */

export const TENANT_EVENT_TYPES = ["run.completed", "run.failed", "approval.required", "schedule.fired", "heartbeat.alert", "budget.threshold"] as const;
export const TenantEventType = z.enum(TENANT_EVENT_TYPES);
export type TenantEventType = z.infer<typeof TenantEventType>;

/** What a platform-fired run was fired by (schedules, heartbeats, approval resumes): travels with the run and comes back in its usage record. */
export const RunTrigger = z.object({
  kind: z.enum(["schedule", "heartbeat", "approval", "title"]),
  /** The schedule's, heartbeat's or approval's id. */
  id: z.string().min(1).max(200),
  /** The firing's id (schedules: one per firing). */
  firingId: z.string().min(1).max(200).optional(),
});
export type RunTrigger = z.infer<typeof RunTrigger>;

/** An event as the platform's API and its webhooks show it. */
export const TenantEvent = z.object({
  id: z.string(),
  type: TenantEventType,
  /** When the fact became true (ISO 8601). */
  occurredAt: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type TenantEvent = z.infer<typeof TenantEvent>;
