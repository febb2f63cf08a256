import { UUID_PATTERN, WEBHOOK_TEST_EVENT } from "@workforce/protocol";
import { audit } from "../db/audit";
import type { Database, SystemDatabase } from "../db/schema";
import { withSystem, withTenant, type TenantTransaction } from "../db/scopes";
import { enqueueJob, type Job, type JobResult, type JobRunner } from "../jobs/job-queue";
import { EVENT_FANOUT_JOB, subscribedEndpoint } from "../jobs/tenant-events";
import type { TenantSecrets } from "../secrets/tenant-secrets";
import { DELIVERY_ATTEMPTS, nextAttemptAt, shouldDisable } from "./webhook-schedule";
import type { AttemptOutcome, WebhookSender } from "./webhook-sender";
import { signedHeaders } from "./webhook-signing";
import { abandonDeliveries, WEBHOOK_DELIVER_JOB, webhookSecretNames, type DeliveryRow, type EndpointRow } from "./webhook-store";

export interface WebhookJobDeps {
  db: Database;
  system: SystemDatabase;
  secrets: TenantSecrets | undefined;
  sender: WebhookSender;
  now: () => Date;
  /** Finished deliveries are forgotten after this long (default 30 days). */
  keepDeliveriesMs?: number;
}

const DEFAULT_KEEP_DELIVERIES_MS = 30 * 24 * 3_600_000;

/** The id in a job's payload, if it is one. */
function idIn(job: Job, field: string): string | undefined {
  const value = job.payload[field];
  return typeof value === "string" && UUID_PATTERN.test(value) ? value : undefined;
}

/**
 * Fan-out: an event becomes one delivery per enabled endpoint subscribed to its type, each with
 * its own job. Idempotent: a delivery is unique per (endpoint, event), so a fan-out run twice (a
 * lease that ran out) adds nothing the second time.
 */
async function fanOut(deps: WebhookJobDeps, job: Job): Promise<void> {
  const eventId = idIn(job, "eventId");
  const tenantId = job.tenantId;
  if (!eventId || !tenantId) return;
  await withTenant(deps.db, tenantId, async (trx) => {
    const event = await trx.selectFrom("tenant_events").select(["id", "type", "data", "occurred_at"]).where("tenant_id", "=", tenantId).where("id", "=", eventId).executeTakeFirst();
    if (!event) return;
    const endpoints = await subscribedEndpoint(trx, tenantId, event.type).execute();
    if (endpoints.length === 0) return;
    const data = typeof event.data === "string" ? (JSON.parse(event.data) as Record<string, unknown>) : event.data;
    // The Standard Webhooks payload, serialised once: every attempt sends (and signs) these very bytes.
    const payload = JSON.stringify({ type: event.type, timestamp: new Date(event.occurred_at).toISOString(), data });
    const now = deps.now();
    const inserted = await trx
      .insertInto("webhook_deliveries")
      .values(endpoints.map((endpoint) => ({ tenant_id: tenantId, endpoint_id: endpoint.id, event_id: event.id, event_type: event.type, payload, next_attempt_at: now, created_at: now, updated_at: now })))
      .onConflict((conflict) => conflict.columns(["endpoint_id", "event_id"]).doNothing())
      .returning("id")
      .execute();
    for (const { id } of inserted) {
      await enqueueJob(trx, { kind: WEBHOOK_DELIVER_JOB, tenantId, key: id, payload: { deliveryId: id }, runAt: now, maxAttempts: DELIVERY_ATTEMPTS });
    }
  });
}

/** The secrets a delivery is signed with: the current one, and the one before a rotation while it is still honoured. */
async function signingSecrets(deps: WebhookJobDeps, trx: TenantTransaction, endpoint: EndpointRow, now: Date): Promise<string[]> {
  if (!deps.secrets) return [];
  const current = await deps.secrets.reveal(trx, endpoint.tenant_id, webhookSecretNames.signing(endpoint.id));
  if (!current) return [];
  const overlap = endpoint.previous_secret_expires_at !== null && new Date(endpoint.previous_secret_expires_at).getTime() > now.getTime();
  const previous = overlap ? await deps.secrets.reveal(trx, endpoint.tenant_id, webhookSecretNames.previous(endpoint.id)) : undefined;
  return previous ? [current, previous] : [current];
}

interface Prepared {
  delivery: DeliveryRow;
  endpoint: EndpointRow;
  secrets: string[];
}

/** Reads what an attempt needs; undefined when there is nothing (left) to do. */
async function prepare(deps: WebhookJobDeps, tenantId: string, deliveryId: string): Promise<Prepared | undefined> {
  return withTenant(deps.db, tenantId, async (trx) => {
    const delivery = await trx.selectFrom("webhook_deliveries").selectAll().where("tenant_id", "=", tenantId).where("id", "=", deliveryId).executeTakeFirst();
    // Deleted with its endpoint, or finished (this job ran before and its outcome was recorded).
    if (!delivery || delivery.status === "succeeded" || delivery.status === "dead") return undefined;
    const endpoint = await trx.selectFrom("webhook_endpoints").selectAll().where("tenant_id", "=", tenantId).where("id", "=", delivery.endpoint_id).executeTakeFirst();
    if (!endpoint) return undefined;
    const now = deps.now();
    if (!endpoint.enabled) {
      await abandonDeliveries(trx, tenantId, endpoint.id, `not delivered: the endpoint is disabled (${endpoint.disabled_reason ?? "no reason given"})`, now);
      return undefined;
    }
    const secrets = await signingSecrets(deps, trx, endpoint, now);
    if (secrets.length === 0) {
      await trx
        .updateTable("webhook_deliveries")
        .set({ status: "dead", next_attempt_at: null, last_error: "not delivered: the endpoint's signing secret is missing (rotate it to make a new one)", updated_at: now })
        .where("id", "=", deliveryId)
        .execute();
      return undefined;
    }
    return { delivery, endpoint, secrets };
  });
}

/** Turns the endpoint off: its unfinished deliveries die, and the audit log says why (the platform did it). */
async function disableEndpoint(trx: TenantTransaction, endpoint: EndpointRow, reason: string, now: Date, failures: number): Promise<void> {
  await trx.updateTable("webhook_endpoints").set({ enabled: false, disabled_reason: reason, disabled_at: now, updated_at: now }).where("id", "=", endpoint.id).execute();
  await abandonDeliveries(trx, endpoint.tenant_id, endpoint.id, `not delivered: the endpoint was disabled (${reason})`, now);
  await audit(trx, { tenantId: endpoint.tenant_id, actor: { userId: null, apiKeyId: null }, action: "webhook.disable", target: endpoint.id, details: { reason, consecutiveFailures: failures, automatic: true } });
}

/** Counts the attempt in the endpoint's run of failures (or ends the run); answers why to turn the endpoint off now, if it should be. */
async function countOnEndpoint(trx: TenantTransaction, endpoint: EndpointRow, outcome: AttemptOutcome, attemptedAt: Date): Promise<{ reason: string; failures: number } | undefined> {
  if (outcome.ok) {
    await trx.updateTable("webhook_endpoints").set({ consecutive_failures: 0, failing_since: null }).where("id", "=", endpoint.id).execute();
    return undefined;
  }
  const streak = await trx
    .updateTable("webhook_endpoints")
    .set((eb) => ({ consecutive_failures: eb("consecutive_failures", "+", 1), failing_since: eb.fn.coalesce("failing_since", eb.val(attemptedAt)) }))
    .where("id", "=", endpoint.id)
    .where("enabled", "=", true)
    .returning(["consecutive_failures", "failing_since"])
    .executeTakeFirst();
  if (!streak) return undefined;
  const failures = streak.consecutive_failures;
  if (outcome.gone) return { reason: "the endpoint answered 410 Gone", failures };
  const failingSince = new Date(streak.failing_since ?? attemptedAt);
  if (!shouldDisable({ failingSince, failures, now: attemptedAt })) return undefined;
  return { reason: `every delivery attempt failed since ${failingSince.toISOString()} (${failures} in a row; the last: ${outcome.error ?? "no answer"})`.slice(0, 500), failures };
}

/** Records an attempt's outcome and what follows (success, a retry, the end, the endpoint turned off); answers the job's result. */
async function settle(deps: WebhookJobDeps, job: Job, prepared: Prepared, outcome: AttemptOutcome, attemptedAt: Date): Promise<JobResult> {
  const { delivery, endpoint } = prepared;
  return withTenant(deps.db, endpoint.tenant_id, async (trx) => {
    const now = deps.now();
    const current = await trx.selectFrom("webhook_deliveries").select("status").where("id", "=", delivery.id).forUpdate().executeTakeFirst();
    if (!current) return undefined;
    // A test event says whether the endpoint works; it does not count towards turning it off.
    const disable = delivery.event_type === WEBHOOK_TEST_EVENT ? undefined : await countOnEndpoint(trx, endpoint, outcome, attemptedAt);
    const final = outcome.ok || outcome.gone || disable !== undefined || job.attempt >= job.maxAttempts || current.status === "dead";
    const retryAt = final ? null : nextAttemptAt({ deliveryId: delivery.id, attempt: job.attempt, failedAt: attemptedAt, retryAfterMs: outcome.retryAfterMs });
    await trx
      .updateTable("webhook_deliveries")
      .set((eb) => ({
        status: outcome.ok ? "succeeded" : final ? "dead" : "failed",
        attempts: eb("attempts", "+", 1),
        last_status_code: outcome.statusCode,
        last_error: outcome.error,
        response_excerpt: outcome.excerpt,
        last_attempt_at: attemptedAt,
        next_attempt_at: retryAt,
        updated_at: now,
      }))
      .where("id", "=", delivery.id)
      .execute();
    if (disable) await disableEndpoint(trx, endpoint, disable.reason, now, disable.failures);
    return retryAt ? { retryAt, error: outcome.error ?? "failed" } : undefined;
  });
}

/** One attempt of a delivery: sign, POST outside any transaction, record. Run again after a crash, it sends again (receivers dedupe on webhook-id). */
async function deliver(deps: WebhookJobDeps, job: Job): Promise<JobResult> {
  const deliveryId = idIn(job, "deliveryId");
  if (!deliveryId || !job.tenantId) return undefined;
  const prepared = await prepare(deps, job.tenantId, deliveryId);
  if (!prepared) return undefined;
  const attemptedAt = deps.now();
  const headers = signedHeaders({ secrets: prepared.secrets, id: prepared.delivery.event_id, timestamp: attemptedAt, body: prepared.delivery.payload });
  const outcome = await deps.sender.send({ url: prepared.endpoint.url, headers, body: prepared.delivery.payload });
  return settle(deps, job, prepared, outcome, attemptedAt);
}

/** Finished deliveries older than the retention; the platform's own periodic work, across organisations. */
async function prune(deps: WebhookJobDeps): Promise<void> {
  const before = new Date(deps.now().getTime() - (deps.keepDeliveriesMs ?? DEFAULT_KEEP_DELIVERIES_MS));
  await withSystem(deps.system, (trx) => trx.deleteFrom("webhook_deliveries").where("status", "in", ["succeeded", "dead"]).where("created_at", "<", before).execute());
}

/** Registers the webhook jobs: the events outbox's fan-out, delivery attempts, and hourly pruning of the log. */
export function registerWebhookJobs(jobs: JobRunner, deps: WebhookJobDeps): void {
  jobs.register(EVENT_FANOUT_JOB, (job) => fanOut(deps, job));
  jobs.register(WEBHOOK_DELIVER_JOB, (job) => deliver(deps, job));
  jobs.every("webhooks.prune", 3_600_000, () => prune(deps), 3_600_000);
}
