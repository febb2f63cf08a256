/**
 * The last line of defence against secrets in logs: every serialized line passes here before it is
 * written. Known secrets (the hook token, provider keys, ... handed over at start-up) are replaced
 * wherever they appear, and so is anything shaped like a credential whatever its source: JWTs, bearer
 * tokens, Workforce API keys, provider keys, passwords inside connection URLs.
 */
export const REDACTED = "[redacted]";

/** Shorter values are not treated as secrets: replacing them would garble ordinary words. */
const MIN_SECRET_LENGTH = 8;

const CREDENTIAL_PATTERNS: Array<[RegExp, string]> = [
  // JWT: base64url header `{"` … , payload, signature.
  [/eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/(\bbearer\s+)[^\s"'\\,;]+/gi, `$1${REDACTED}`],
  // Workforce API keys (platform/src/auth/api-key-secret.ts: "wf_" + 43 base64url characters); the
  // 9-character display prefix stays readable.
  [/\bwf_[A-Za-z0-9_-]{16,}/g, `wf_${REDACTED}`],
  // Anthropic (sk-ant-…) and OpenAI (sk-…, sk-proj-…) keys.
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${REDACTED}`],
  // user:password@ in postgres://, redis://, smtp:// URLs.
  [/(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"'\\]*:)[^\s@/"'\\]+@/gi, `$1${REDACTED}@`],
];

/** Escapes a secret as it appears inside a JSON string, so a quote or backslash in it cannot hide it. */
function jsonEscaped(secret: string): string {
  return JSON.stringify(secret).slice(1, -1);
}

export type Redactor = (line: string) => string;

/** Builds the scrubber for one service; `secrets` are the exact values it knows are secret. */
export function createRedactor(secrets: ReadonlyArray<string | undefined>): Redactor {
  const exact = [
    ...new Set(secrets.filter((secret): secret is string => typeof secret === "string" && secret.length >= MIN_SECRET_LENGTH).flatMap((secret) => [secret, jsonEscaped(secret)])),
  ].sort((a, b) => b.length - a.length);
  return (line) => {
    let out = line;
    for (const secret of exact) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    for (const [pattern, replacement] of CREDENTIAL_PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
}
