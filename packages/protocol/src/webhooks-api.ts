import { z } from "zod";
import { TENANT_EVENT_TYPES, TenantEventType } from "./tenant-events";

/*
 * `/api/webhooks` (issue 15): an organisation's outbound webhook endpoints and their delivery log.
 * Deliveries follow the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`,
 * `webhook-signature`; body `{ type, timestamp, data }`). The signing secret (`whsec_…`) is answered
 * once, when the endpoint is created or its secret rotated; afterwards only a hint.
 */

/** The event type of `POST /api/webhooks/{id}/test`: sent to that endpoint only, whatever it subscribes to. */
export const WEBHOOK_TEST_EVENT = "webhook.test";

/** `disabledReason` of an endpoint a member turned off (others were turned off by the platform: 410 Gone, or days of failures). */
export const WEBHOOK_DISABLED_BY_MEMBER = "Disabled by a member";

/** Endpoints an organisation may register. */
export const MAX_WEBHOOK_ENDPOINTS = 20;

/** What each event type means, for screens and docs. */
export const WEBHOOK_EVENT_LABELS: Record<TenantEventType, string> = {
  "run.completed": "A run ended successfully",
  "run.failed": "A run failed or was aborted",
  "approval.required": "A tool call waits for a member's approval",
  "schedule.fired": "A schedule fired",
  "heartbeat.alert": "A heartbeat found something that needs attention",
  "budget.threshold": "The organisation used 80% or 100% of its monthly token budget",
};

const WebhookUrl = z
  .string({ message: "is required" })
  .trim()
  .min(1, "is required")
  .max(2000, "must be at most 2000 characters")
  .url("must be a URL such as https://example.com/hooks/workforce")
  .refine((value) => /^https?:\/\//i.test(value), "must be an https:// URL (http:// only where the operator allows it)")
  // The URL is shown to every admin and written to the audit log; the signature is what proves the sender.
  .refine((value) => !/^https?:\/\/[^/]*@/i.test(value), "must not carry a user name or password: verify the webhook-signature header instead");

const Description = z.string().trim().max(200, "must be at most 200 characters");

/** The event types an endpoint receives; null (or absent) means every type, including types added later. */
export const WebhookEventTypes = z
  .array(TenantEventType)
  .min(1, "name at least one event type, or null for all")
  .max(TENANT_EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, "must not name a type twice")
  .nullable();

export const WebhookEndpointInput = z.object({
  url: WebhookUrl,
  description: Description.default(""),
  eventTypes: WebhookEventTypes.default(null),
});
export type WebhookEndpointInput = z.infer<typeof WebhookEndpointInput>;

/** A change; `enabled: true` turns a disabled endpoint on again and forgets its failures. */
export const WebhookEndpointUpdate = z
  .object({
    url: WebhookUrl.optional(),
    description: Description.optional(),
    eventTypes: WebhookEventTypes.optional(),
    enabled: z.boolean().optional(),
  })
  .refine((update) => Object.keys(update).length > 0, "change at least one field");
export type WebhookEndpointUpdate = z.infer<typeof WebhookEndpointUpdate>;

/** `POST /api/webhooks/{id}/rotate-secret`: how long deliveries are also signed with the old secret, so receivers can switch without losing any. */
export const WebhookRotateInput = z.object({
  previousSecretValidHours: z.number().int("must be whole hours").min(0).max(72, "must be at most 72 hours").default(24),
});
export type WebhookRotateInput = z.infer<typeof WebhookRotateInput>;

export const WebhookEndpointView = z.object({
  id: z.string(),
  url: z.string(),
  description: z.string(),
  /** null: every event type. */
  eventTypes: z.array(TenantEventType).nullable(),
  enabled: z.boolean(),
  /** Why it is off: by a member, or automatically (410 Gone, or every attempt failing for days). */
  disabledReason: z.string().nullable(),
  disabledAt: z.string().nullable(),
  /** Failed attempts since the last success. */
  consecutiveFailures: z.number(),
  /** When the current run of failures began (null while it succeeds). */
  failingSince: z.string().nullable(),
  /** "…abcd": the end of the signing secret, to tell which one a receiver holds. */
  secretHint: z.string(),
  /** While set and in the future, deliveries carry a second signature made with the secret before the last rotation. */
  previousSecretExpiresAt: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WebhookEndpointView = z.infer<typeof WebhookEndpointView>;

export const WebhookEndpointEnvelope = z.object({ endpoint: WebhookEndpointView });
export const WebhookEndpointList = z.object({ endpoints: z.array(WebhookEndpointView), limit: z.number() });
/** Creation and rotation: the secret, this once. */
export const WebhookEndpointWithSecret = z.object({ endpoint: WebhookEndpointView, secret: z.string() });
export type WebhookEndpointWithSecret = z.infer<typeof WebhookEndpointWithSecret>;

/**
 * - `pending`: not attempted yet (or redelivery asked for).
 * - `failed`: the last attempt failed; another is due at `nextAttemptAt`.
 * - `succeeded`: the endpoint answered 2xx.
 * - `dead`: no more attempts (every retry failed, the endpoint answered 410, or it was disabled).
 */
export const WebhookDeliveryStatus = z.enum(["pending", "failed", "succeeded", "dead"]);
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatus>;

export const WebhookDeliveryView = z.object({
  id: z.string(),
  endpointId: z.string(),
  /** The `webhook-id` header: the event's id, the same on every attempt and redelivery (receivers dedupe on it). */
  eventId: z.string(),
  eventType: z.string(),
  status: WebhookDeliveryStatus,
  attempts: z.number(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  /** The start of the endpoint's last answer (at most 1 KiB). */
  responseExcerpt: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  /** The body sent, exactly as signed. */
  payload: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type WebhookDeliveryView = z.infer<typeof WebhookDeliveryView>;

export const WebhookDeliveryEnvelope = z.object({ delivery: WebhookDeliveryView });
/** The delivery log, newest first; pass `nextCursor` as `cursor` for the next page (null: no more). */
export const WebhookDeliveryPage = z.object({ deliveries: z.array(WebhookDeliveryView), nextCursor: z.string().nullable() });
export type WebhookDeliveryPage = z.infer<typeof WebhookDeliveryPage>;

export const WebhookDeliveryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().max(200).optional(),
  status: WebhookDeliveryStatus.optional(),
});
