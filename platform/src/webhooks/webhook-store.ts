import { AppError, TenantEventType, UUID_PATTERN, type WebhookDeliveryView, type WebhookEndpointView } from "@workforce/protocol";
import type { Selectable } from "kysely";
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from "../db/schema";
import type { TenantTransaction } from "../db/scopes";

export type EndpointRow = Selectable<WebhookEndpointsTable>;
export type DeliveryRow = Selectable<WebhookDeliveriesTable>;

/** The job that makes a delivery's attempts (one per delivery, or per redelivery). */
export const WEBHOOK_DELIVER_JOB = "webhooks.deliver";

/** Secret names of one endpoint in the tenant secret store. */
export const webhookSecretNames = {
  prefix: (endpointId: string) => `webhook/${endpointId}/`,
  signing: (endpointId: string) => `webhook/${endpointId}/signing`,
  /** The secret before the last rotation, honoured until `previous_secret_expires_at`. */
  previous: (endpointId: string) => `webhook/${endpointId}/previous`,
};

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** Stored types that are no longer known (a type removed later) are left out rather than failing the answer. */
const knownTypes = (types: string[] | null) => (types === null ? null : types.flatMap((type) => (TenantEventType.safeParse(type).success ? [type as TenantEventType] : [])));

export function toEndpointView(row: EndpointRow): WebhookEndpointView {
  return {
    id: row.id,
    url: row.url,
    description: row.description,
    eventTypes: knownTypes(row.event_types),
    enabled: row.enabled,
    disabledReason: row.disabled_reason,
    disabledAt: iso(row.disabled_at),
    consecutiveFailures: row.consecutive_failures,
    failingSince: iso(row.failing_since),
    secretHint: row.secret_hint,
    previousSecretExpiresAt: iso(row.previous_secret_expires_at),
    createdBy: row.created_by,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export function toDeliveryView(row: DeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type,
    status: row.status,
    attempts: row.attempts,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    responseExcerpt: row.response_excerpt,
    lastAttemptAt: iso(row.last_attempt_at),
    nextAttemptAt: iso(row.next_attempt_at),
    payload: row.payload,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

const endpointNotFound = () => new AppError("webhook_not_found", "No such webhook endpoint");
const deliveryNotFound = () => new AppError("webhook_delivery_not_found", "No such delivery of this webhook endpoint");

/** The endpoint with this id in the transaction's organisation; another organisation's is 404 as if it did not exist. */
export async function findEndpoint(trx: TenantTransaction, tenantId: string, id: string, options: { lock?: boolean } = {}): Promise<EndpointRow> {
  if (!UUID_PATTERN.test(id)) throw endpointNotFound();
  let query = trx.selectFrom("webhook_endpoints").selectAll().where("tenant_id", "=", tenantId).where("id", "=", id);
  if (options.lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw endpointNotFound();
  return row;
}

/** A delivery of this endpoint (one of another endpoint, or organisation, is 404). */
export async function findDelivery(trx: TenantTransaction, tenantId: string, endpointId: string, id: string, options: { lock?: boolean } = {}): Promise<DeliveryRow> {
  if (!UUID_PATTERN.test(id)) throw deliveryNotFound();
  let query = trx.selectFrom("webhook_deliveries").selectAll().where("tenant_id", "=", tenantId).where("endpoint_id", "=", endpointId).where("id", "=", id);
  if (options.lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw deliveryNotFound();
  return row;
}

/** The log's cursor: the last row's creation time and id, opaque to clients. */
export function encodeCursor(row: Pick<DeliveryRow, "created_at" | "id">): string {
  return Buffer.from(`${new Date(row.created_at).toISOString()}|${row.id}`, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString("utf8").split("|");
  const createdAt = new Date(at ?? "");
  if (!id || !UUID_PATTERN.test(id) || Number.isNaN(createdAt.getTime())) throw new AppError("validation_failed", "cursor: is not a cursor this log gave out");
  return { createdAt, id };
}

/**
 * Marks the endpoint's unfinished deliveries dead (it was disabled): their queued attempts find
 * them finished and do nothing. A member may redeliver any of them once it is enabled again.
 */
export async function abandonDeliveries(trx: TenantTransaction, tenantId: string, endpointId: string, reason: string, now: Date): Promise<void> {
  await trx
    .updateTable("webhook_deliveries")
    .set({ status: "dead", next_attempt_at: null, last_error: reason.slice(0, 500), updated_at: now })
    .where("tenant_id", "=", tenantId)
    .where("endpoint_id", "=", endpointId)
    .where("status", "in", ["pending", "failed"])
    .execute();
}
