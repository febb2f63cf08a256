import { randomUUID } from "node:crypto";
import {
  AppError,
  MAX_WEBHOOK_ENDPOINTS,
  WEBHOOK_DISABLED_BY_MEMBER,
  WEBHOOK_TEST_EVENT,
  WebhookDeliveryQuery,
  WebhookEndpointInput,
  WebhookEndpointUpdate,
  WebhookRotateInput,
} from "@workforce/protocol";
import { Hono } from "hono";
import { sql } from "kysely";
import type { AppEnv } from "../app-env";
import type { Actor } from "../auth/operation-route";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import type { Database } from "../db/schema";
import { withTenant, type TenantTransaction } from "../db/scopes";
import { enqueueJob } from "../jobs/job-queue";
import type { TenantSecrets } from "../secrets/tenant-secrets";
import { parseWith, readJson } from "../validation";
import { DELIVERY_ATTEMPTS, TEST_DELIVERY_ATTEMPTS } from "./webhook-schedule";
import { generateWebhookSecret } from "./webhook-signing";
import {
  abandonDeliveries,
  decodeCursor,
  encodeCursor,
  findDelivery,
  findEndpoint,
  toDeliveryView,
  toEndpointView,
  WEBHOOK_DELIVER_JOB,
  webhookSecretNames,
  type EndpointRow,
} from "./webhook-store";

export interface WebhookRouteDeps {
  db: Database;
  secrets: TenantSecrets | undefined;
  now: () => Date;
  /** The URL check at registration (SSRF guard, https). */
  assertWebhookUrl: (url: string) => Promise<void>;
  /** Endpoints per organisation (default MAX_WEBHOOK_ENDPOINTS). */
  maxEndpoints?: number;
}

function requireSecrets(secrets: TenantSecrets | undefined): TenantSecrets {
  if (!secrets) throw new AppError("secrets_unavailable", "Webhook signing secrets cannot be stored: the operator has not set up a master key (WORKFORCE_SECRET_KEY)");
  return secrets;
}

const disabledError = () => new AppError("webhook_disabled", "The webhook endpoint is disabled: enable it first");

/** The organisation's outbound webhooks (issue 15): owners and admins manage them and read their delivery log. */
export function webhookRoutes(deps: WebhookRouteDeps) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);
  const maxEndpoints = deps.maxEndpoints ?? MAX_WEBHOOK_ENDPOINTS;

  /** Stores a fresh signing secret for the endpoint (and keeps the old one honoured for a while); answers it and its hint. */
  async function storeSecret(trx: TenantTransaction, tenantId: string, endpointId: string, actor: Actor, previous?: { secret: string; until: Date }) {
    const secrets = requireSecrets(deps.secrets);
    const secret = generateWebhookSecret();
    const summary = await secrets.put(trx, tenantId, { name: webhookSecretNames.signing(endpointId), kind: "webhook", value: secret, ...actor });
    if (previous) await secrets.put(trx, tenantId, { name: webhookSecretNames.previous(endpointId), kind: "webhook", value: previous.secret, ...actor });
    else await secrets.remove(trx, tenantId, webhookSecretNames.previous(endpointId), actor);
    return { secret, hint: summary.hint };
  }

  /** Queues an attempt of the delivery now: moves a waiting retry forward, or starts a fresh round of attempts. */
  async function deliverNow(trx: TenantTransaction, tenantId: string, deliveryId: string, maxAttempts: number): Promise<void> {
    const now = deps.now();
    const jobs = await trx
      .selectFrom("jobs")
      .select(["id", "status"])
      .where("tenant_id", "=", tenantId)
      .where("kind", "=", WEBHOOK_DELIVER_JOB)
      .where(sql<string>`payload->>'deliveryId'`, "=", deliveryId)
      .where("status", "in", ["queued", "running"])
      .execute();
    if (jobs.some((job) => job.status === "running")) throw new AppError("webhook_delivery_in_progress", "An attempt of this delivery is being made right now; its outcome shows in the log shortly");
    const queued = jobs[0];
    if (queued) await trx.updateTable("jobs").set({ run_at: now }).where("id", "=", queued.id).execute();
    else await enqueueJob(trx, { kind: WEBHOOK_DELIVER_JOB, tenantId, key: `${deliveryId}/${randomUUID()}`, payload: { deliveryId }, runAt: now, maxAttempts });
  }

  route("webhooks.list", async (c, { tenantId }) => {
    const rows = await withTenant(deps.db, tenantId, (trx) => trx.selectFrom("webhook_endpoints").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("id").execute());
    return c.json({ endpoints: rows.map(toEndpointView), limit: maxEndpoints });
  });

  route("webhooks.get", async (c, { tenantId }) => {
    const row = await withTenant(deps.db, tenantId, (trx) => findEndpoint(trx, tenantId, c.req.param("id")));
    return c.json({ endpoint: toEndpointView(row) });
  });

  route("webhooks.create", async (c, { tenantId, actor }) => {
    const input = await readJson(c, WebhookEndpointInput);
    await deps.assertWebhookUrl(input.url);
    requireSecrets(deps.secrets);
    const result = await withTenant(deps.db, tenantId, async (trx) => {
      // One creation at a time per organisation, so two at once cannot both take the last place.
      await sql`select pg_advisory_xact_lock(hashtext(${`webhooks:${tenantId}`}))`.execute(trx);
      const count = await trx.selectFrom("webhook_endpoints").select(sql<number | string>`count(*)`.as("count")).where("tenant_id", "=", tenantId).executeTakeFirst();
      if (Number(count?.count ?? 0) >= maxEndpoints) {
        throw new AppError("webhook_limit_reached", `An organisation may have at most ${maxEndpoints} webhook endpoints: delete one first, or subscribe an existing one to more event types`);
      }
      const id = randomUUID();
      const now = deps.now();
      const { secret, hint } = await storeSecret(trx, tenantId, id, actor);
      const row = await trx
        .insertInto("webhook_endpoints")
        .values({ id, tenant_id: tenantId, url: input.url, description: input.description, event_types: input.eventTypes, secret_hint: hint, created_by: actor.userId, created_at: now, updated_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "webhook.create", target: id, details: { url: input.url, eventTypes: input.eventTypes } });
      return { endpoint: toEndpointView(row), secret };
    });
    return c.json(result, 201);
  });

  route("webhooks.update", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    const update = await readJson(c, WebhookEndpointUpdate);
    if (update.url !== undefined) await deps.assertWebhookUrl(update.url);
    const endpoint = await withTenant(deps.db, tenantId, async (trx) => {
      const row = await findEndpoint(trx, tenantId, id, { lock: true });
      const now = deps.now();
      const changes: Partial<Pick<EndpointRow, "url" | "description" | "event_types" | "enabled" | "disabled_reason" | "disabled_at" | "consecutive_failures" | "failing_since">> = {};
      if (update.url !== undefined) changes.url = update.url;
      if (update.description !== undefined) changes.description = update.description;
      if (update.eventTypes !== undefined) changes.event_types = update.eventTypes;
      if (update.enabled === true && !row.enabled) Object.assign(changes, { enabled: true, disabled_reason: null, disabled_at: null, consecutive_failures: 0, failing_since: null });
      if (update.enabled === false && row.enabled) {
        Object.assign(changes, { enabled: false, disabled_reason: WEBHOOK_DISABLED_BY_MEMBER, disabled_at: now });
        await abandonDeliveries(trx, tenantId, id, "not delivered: a member disabled the endpoint", now);
      }
      const saved = await trx.updateTable("webhook_endpoints").set({ ...changes, updated_at: now }).where("id", "=", id).returningAll().executeTakeFirstOrThrow();
      const action = changes.enabled === true ? "webhook.enable" : changes.enabled === false ? "webhook.disable" : "webhook.update";
      await audit(trx, { tenantId, actor, action, target: id, details: { fields: Object.keys(update), ...(update.url === undefined ? {} : { url: update.url }) } });
      return toEndpointView(saved);
    });
    return c.json({ endpoint });
  });

  route("webhooks.delete", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    await withTenant(deps.db, tenantId, async (trx) => {
      const row = await findEndpoint(trx, tenantId, id, { lock: true });
      // Its deliveries go with it (foreign key); queued attempts then find nothing to do.
      await trx.deleteFrom("webhook_endpoints").where("id", "=", id).execute();
      if (deps.secrets) await deps.secrets.removePrefix(trx, tenantId, webhookSecretNames.prefix(id), actor);
      await audit(trx, { tenantId, actor, action: "webhook.delete", target: id, details: { url: row.url } });
    });
    return c.body(null, 204);
  });

  route("webhooks.rotate-secret", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    const input = await readJson(c, WebhookRotateInput);
    const secrets = requireSecrets(deps.secrets);
    const result = await withTenant(deps.db, tenantId, async (trx) => {
      await findEndpoint(trx, tenantId, id, { lock: true });
      const now = deps.now();
      const current = await secrets.reveal(trx, tenantId, webhookSecretNames.signing(id));
      const until = input.previousSecretValidHours > 0 && current ? new Date(now.getTime() + input.previousSecretValidHours * 3_600_000) : null;
      const { secret, hint } = await storeSecret(trx, tenantId, id, actor, until && current ? { secret: current, until } : undefined);
      const saved = await trx
        .updateTable("webhook_endpoints")
        .set({ secret_hint: hint, previous_secret_expires_at: until, updated_at: now })
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "webhook.rotate_secret", target: id, details: { previousSecretValidHours: until ? input.previousSecretValidHours : 0 } });
      return { endpoint: toEndpointView(saved), secret };
    });
    return c.json(result);
  });

  route("webhooks.test", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    const delivery = await withTenant(deps.db, tenantId, async (trx) => {
      const endpoint = await findEndpoint(trx, tenantId, id);
      if (!endpoint.enabled) throw disabledError();
      const now = deps.now();
      const eventId = randomUUID();
      const payload = JSON.stringify({ type: WEBHOOK_TEST_EVENT, timestamp: now.toISOString(), data: { endpointId: id, message: "A test event from Workforce: this endpoint receives and verifies deliveries." } });
      const row = await trx
        .insertInto("webhook_deliveries")
        .values({ tenant_id: tenantId, endpoint_id: id, event_id: eventId, event_type: WEBHOOK_TEST_EVENT, payload, next_attempt_at: now, created_at: now, updated_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
      await enqueueJob(trx, { kind: WEBHOOK_DELIVER_JOB, tenantId, key: row.id, payload: { deliveryId: row.id }, runAt: now, maxAttempts: TEST_DELIVERY_ATTEMPTS });
      await audit(trx, { tenantId, actor, action: "webhook.test", target: id, details: { deliveryId: row.id } });
      return toDeliveryView(row);
    });
    return c.json({ delivery }, 202);
  });

  route("webhooks.deliveries", async (c, { tenantId }) => {
    const id = c.req.param("id");
    const query = parseWith(WebhookDeliveryQuery, c.req.query());
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const rows = await withTenant(deps.db, tenantId, async (trx) => {
      await findEndpoint(trx, tenantId, id);
      let select = trx.selectFrom("webhook_deliveries").selectAll().where("tenant_id", "=", tenantId).where("endpoint_id", "=", id);
      if (query.status) select = select.where("status", "=", query.status);
      if (after) select = select.where((eb) => eb.or([eb("created_at", "<", after.createdAt), eb.and([eb("created_at", "=", after.createdAt), eb("id", "<", after.id)])]));
      return select.orderBy("created_at", "desc").orderBy("id", "desc").limit(query.limit + 1).execute();
    });
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return c.json({ deliveries: page.map(toDeliveryView), nextCursor: rows.length > query.limit && last ? encodeCursor(last) : null });
  });

  route("webhooks.redeliver", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    const delivery = await withTenant(deps.db, tenantId, async (trx) => {
      const endpoint = await findEndpoint(trx, tenantId, id);
      const row = await findDelivery(trx, tenantId, id, c.req.param("deliveryId"), { lock: true });
      if (!endpoint.enabled) throw disabledError();
      const now = deps.now();
      await deliverNow(trx, tenantId, row.id, row.event_type === WEBHOOK_TEST_EVENT ? TEST_DELIVERY_ATTEMPTS : DELIVERY_ATTEMPTS);
      // A finished delivery starts over (same event, same webhook-id); one waiting for a retry keeps its state and is tried now.
      const saved = await trx
        .updateTable("webhook_deliveries")
        .set({ ...(row.status === "succeeded" || row.status === "dead" ? { status: "pending" as const } : {}), next_attempt_at: now, updated_at: now })
        .where("id", "=", row.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "webhook.redeliver", target: id, details: { deliveryId: row.id, eventId: row.event_id } });
      return toDeliveryView(saved);
    });
    return c.json({ delivery }, 202);
  });

  return app;
}
