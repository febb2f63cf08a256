import path from "node:path";

/** The environment variables of the master key, each with what it means; for docs and the launcher. */
export const SECRET_KEY_ENV = {
  WORKFORCE_SECRET_KEY:
    "Master key that encrypts secrets at rest (the organisations' integration secrets and the signing keys): 32 random bytes in base64 or base64url, e.g. from `openssl rand -base64 32`. Every platform process of one installation must have the same value. Unset: a key file is used (WORKFORCE_SECRET_KEY_FILE).",
  WORKFORCE_SECRET_KEY_PREVIOUS:
    "The master key being rotated away from, during a master-key rotation (decision 029): it only decrypts, never encrypts. Set it next to the new WORKFORCE_SECRET_KEY, run `npm run workforce -- secrets rotate-master-key`, then remove it.",
  WORKFORCE_SECRET_KEY_FILE:
    "Absolute path of the master key file used when WORKFORCE_SECRET_KEY is unset (default ~/.workforce/secret.key, next to the embedded database); created with mode 0600 on first start. Back it up: without it the encrypted secrets cannot be read.",
} as const;

export type SecretKeyEnv = Partial<Record<keyof typeof SECRET_KEY_ENV, string | undefined>>;

/** Where the master key comes from, read once at start-up. */
export type SecretKeyConfig =
  /** WORKFORCE_SECRET_KEY, decoded (32 bytes), and WORKFORCE_SECRET_KEY_PREVIOUS when a rotation is under way. */
  | { source: "env"; key: Uint8Array; previous?: Uint8Array }
  /**
   * WORKFORCE_SECRET_KEY_FILE (or its default), absolute; created on first start when missing.
   * `<path>.previous` (see `previousKeyFile`) holds the old key while a rotation is under way.
   */
  | { source: "file"; path: string };

/** Where a key file's predecessor waits while `secrets rotate-master-key` re-wraps what it encrypted. */
export const previousKeyFile = (file: string) => `${file}.previous`;

export type SecretKeyConfigResult = { ok: true; config: SecretKeyConfig } | { ok: false; problems: string[] };

export const MASTER_KEY_BYTES = 32;
const GENERATE = "generate one with `openssl rand -base64 32`";

const blankToUndefined = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value.trim());

/**
 * Decodes a master key written in base64 or base64url (padding optional), strictly: exactly 32
 * bytes, one alphabet, no stray characters, canonical last character. Buffer.from alone would
 * silently skip bad characters and accept a key that is not the one the operator meant.
 * Returns a reason (never echoing the value) when it is not one.
 */
export function parseMasterKey(text: string): { ok: true; key: Uint8Array } | { ok: false; reason: string } {
  const value = text.trim();
  const standard = /^[A-Za-z0-9+/]{43}=?$/.test(value);
  const url = /^[A-Za-z0-9_-]{43}=?$/.test(value);
  if (!standard && !url) {
    if (/^[0-9a-fA-F]{64}$/.test(value)) return { ok: false, reason: `looks like hex; it must be base64 (44 characters): ${GENERATE}` };
    return { ok: false, reason: `must be ${MASTER_KEY_BYTES} random bytes in base64 or base64url (44 characters, got ${value.length}); ${GENERATE}` };
  }
  const key = Buffer.from(value, url ? "base64url" : "base64");
  const canonical = key.toString(url ? "base64url" : "base64").replace(/=+$/, "");
  if (key.length !== MASTER_KEY_BYTES || canonical !== value.replace(/=+$/, "")) {
    return { ok: false, reason: `is not canonical base64 of ${MASTER_KEY_BYTES} bytes (a character was changed or lost?); ${GENERATE}` };
  }
  return { ok: true, key: new Uint8Array(key) };
}

/**
 * Checks the master-key variables; every problem names its variable and the fix, in the
 * "NAME: message" form of the platform's other configuration problems. Nothing is read from disk
 * here: `loadMasterKey` reads (or creates) the file.
 */
export function readSecretKeyConfig(env: SecretKeyEnv, homeDir: string): SecretKeyConfigResult {
  const problems: string[] = [];
  const inline = blankToUndefined(env.WORKFORCE_SECRET_KEY);
  const file = blankToUndefined(env.WORKFORCE_SECRET_KEY_FILE);
  const previousInline = blankToUndefined(env.WORKFORCE_SECRET_KEY_PREVIOUS);

  if (inline !== undefined && file !== undefined) {
    problems.push("WORKFORCE_SECRET_KEY_FILE: is set together with WORKFORCE_SECRET_KEY; set only one of them, so it is clear which key encrypts the secrets");
  }
  if (file !== undefined && !path.isAbsolute(file)) {
    problems.push("WORKFORCE_SECRET_KEY_FILE: must be an absolute path (relative paths are resolved differently by each process); e.g. WORKFORCE_SECRET_KEY_FILE=$HOME/.workforce/secret.key");
  }
  let key: Uint8Array | undefined;
  if (inline !== undefined) {
    const parsed = parseMasterKey(inline);
    if (parsed.ok) key = parsed.key;
    else problems.push(`WORKFORCE_SECRET_KEY: ${parsed.reason}`);
  }
  let previous: Uint8Array | undefined;
  if (previousInline !== undefined) {
    const parsed = parseMasterKey(previousInline);
    if (inline === undefined) {
      problems.push(
        "WORKFORCE_SECRET_KEY_PREVIOUS: is set without WORKFORCE_SECRET_KEY; it names the old key of a rotation to WORKFORCE_SECRET_KEY (with a key file, `secrets rotate-master-key` keeps the old key itself)",
      );
    } else if (parsed.ok) previous = parsed.key;
    else problems.push(`WORKFORCE_SECRET_KEY_PREVIOUS: ${parsed.reason}`);
  }

  if (problems.length > 0) return { ok: false, problems };
  if (key) return { ok: true, config: { source: "env", key, ...(previous ? { previous } : {}) } };
  return { ok: true, config: { source: "file", path: path.resolve(file ?? path.join(homeDir, ".workforce", "secret.key")) } };
}
