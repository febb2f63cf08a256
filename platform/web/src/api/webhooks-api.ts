import {
  WebhookDeliveryEnvelope,
  WebhookDeliveryPage,
  WebhookEndpointEnvelope,
  WebhookEndpointList,
  WebhookEndpointWithSecret,
  type WebhookDeliveryStatus,
  type WebhookEndpointInput,
  type WebhookEndpointUpdate,
} from "@workforce/protocol";
import type { z } from "zod";
import type { ApiCalls } from "./composio-api";

/** The platform's outbound webhook routes (docs/platform-api.md, "Outbound webhooks"). Owners and admins only. */
export function webhooksApi({ json, send }: ApiCalls) {
  const path = (id: string) => `/webhooks/${encodeURIComponent(id)}`;
  const body = (value: unknown): RequestInit => ({ body: JSON.stringify(value) });
  return {
    list: () => json(WebhookEndpointList, "/webhooks"),
    /** The answer holds the signing secret: show it once, keep it nowhere. */
    create: (input: z.input<typeof WebhookEndpointInput>) => json(WebhookEndpointWithSecret, "/webhooks", { method: "POST", ...body(input) }),
    update: async (id: string, update: WebhookEndpointUpdate) => (await json(WebhookEndpointEnvelope, path(id), { method: "PATCH", ...body(update) })).endpoint,
    remove: async (id: string) => {
      await send(path(id), { method: "DELETE" });
    },
    /** A new secret (shown once); the old one keeps signing for `previousSecretValidHours`. */
    rotateSecret: (id: string, previousSecretValidHours: number) => json(WebhookEndpointWithSecret, `${path(id)}/rotate-secret`, { method: "POST", ...body({ previousSecretValidHours }) }),
    sendTest: async (id: string) => (await json(WebhookDeliveryEnvelope, `${path(id)}/test`, { method: "POST" })).delivery,
    deliveries: (id: string, options: { cursor?: string; status?: WebhookDeliveryStatus; limit?: number } = {}) => {
      const query = new URLSearchParams();
      if (options.limit) query.set("limit", String(options.limit));
      if (options.cursor) query.set("cursor", options.cursor);
      if (options.status) query.set("status", options.status);
      const text = query.toString();
      const suffix = text === "" ? "" : `?${text}`;
      return json(WebhookDeliveryPage, `${path(id)}/deliveries${suffix}`);
    },
    redeliver: async (id: string, deliveryId: string) => (await json(WebhookDeliveryEnvelope, `${path(id)}/deliveries/${encodeURIComponent(deliveryId)}/redeliver`, { method: "POST" })).delivery,
  };
}
