import { randomBytes } from "node:crypto";
import { hashToken } from "./refresh-token";

/** Every key starts with this, so a bearer token is recognisably a key (and secret scanners can find leaks). */
export const API_KEY_PREFIX = "wf_";

/** A new key: the secret is shown once; only its hash and a short prefix are stored. */
export function newApiKey(): { secret: string; prefix: string; hash: string } {
  const secret = `${API_KEY_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { secret, prefix: secret.slice(0, API_KEY_PREFIX.length + 6), hash: hashToken(secret) };
}
