import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/*
 * Standard Webhooks signing (https://www.standardwebhooks.com, v1 symmetric): the content signed
 * is `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256 under the endpoint's own secret,
 * sent as `v1,<base64>`. Several signatures are space-separated: during a rotation the old secret
 * signs too, so a receiver still holding it keeps verifying.
 */

/** Random bytes in a secret: the spec asks for 24 to 64. */
const SECRET_BYTES = 32;

/** A new signing secret in the spec's serialisation: `whsec_` + base64. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(SECRET_BYTES).toString("base64")}`;
}

/** The three Standard Webhooks headers for one attempt; `secrets` are the current one first, then any still honoured. */
export function signedHeaders(input: { secrets: readonly string[]; id: string; timestamp: Date; body: string }): Record<string, string> {
  if (input.secrets.length === 0) throw new Error("signedHeaders: no signing secret");
  const signature = input.secrets.map((secret) => new Webhook(secret).sign(input.id, input.timestamp, input.body)).join(" ");
  return {
    "webhook-id": input.id,
    "webhook-timestamp": String(Math.floor(input.timestamp.getTime() / 1000)),
    "webhook-signature": signature,
  };
}
