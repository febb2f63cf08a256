import { createCipheriv, createDecipheriv, randomBytes, type CipherKey } from "node:crypto";
import type { MasterKey } from "./master-key";

/**
 * Envelope encryption of one value (decision 011). A fresh 256-bit data key encrypts the value
 * with AES-256-GCM; the master key encrypts (wraps) the data key, also with AES-256-GCM. The
 * stored string is
 *
 *     v1.<master key id>.<wrap nonce>.<wrapped data key + tag>.<nonce>.<ciphertext + tag>
 *
 * (base64url parts). The master key id lets a wrong key be named as such instead of failing as a
 * forged value, and lets master-key rotation find what it still has to re-wrap. The associated
 * data (e.g. "signing-key:<kid>") is authenticated with both layers but not stored: a value copied
 * into another row does not decrypt there.
 */
const VERSION = "v1";
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DATA_KEY_BYTES = 32;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const MASTER_KEY_ID = /^[0-9a-f]{16}$/;

export type SecretDecryptionFailure = "malformed" | "unsupported_version" | "wrong_master_key" | "tampered";

/** Why a stored value cannot be decrypted; `reason` for code, the message for people. */
export class SecretDecryptionError extends Error {
  override name = "SecretDecryptionError";
  constructor(
    readonly reason: SecretDecryptionFailure,
    message: string,
    /** The master key id the value names (wrong_master_key). */
    readonly encryptedWith?: string,
  ) {
    super(message);
  }
}

const additionalData = (layer: "wrap" | "data", masterKeyId: string, associatedData: string) =>
  Buffer.from(`workforce-secret.${VERSION}.${layer}.${masterKeyId}.${associatedData}`, "utf8");

function seal(key: CipherKey, plaintext: Uint8Array, aad: Buffer): { nonce: Buffer; sealed: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return { nonce, sealed };
}

function open(key: CipherKey, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, nonce, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]);
}

/** Encrypts `plaintext` for storage; `associatedData` names the row it belongs to and must be given again to decrypt. */
export function encryptSecret(masterKey: MasterKey, plaintext: string | Uint8Array, associatedData: string): string {
  const dataKey = randomBytes(DATA_KEY_BYTES);
  try {
    const value = typeof plaintext === "string" ? Buffer.from(plaintext, "utf8") : plaintext;
    const wrapped = seal(masterKey.key, dataKey, additionalData("wrap", masterKey.id, associatedData));
    const data = seal(dataKey, value, additionalData("data", masterKey.id, associatedData));
    return [VERSION, masterKey.id, wrapped.nonce, wrapped.sealed, data.nonce, data.sealed]
      .map((part) => (typeof part === "string" ? part : part.toString("base64url")))
      .join(".");
  } finally {
    dataKey.fill(0);
  }
}

/** The id of the master key a stored value was encrypted with, or undefined when it is not an envelope. */
export function envelopeMasterKeyId(value: string): string | undefined {
  const [version, id] = value.split(".");
  return version === VERSION && id !== undefined && MASTER_KEY_ID.test(id) ? id : undefined;
}

function decode(part: string | undefined, what: string, minBytes: number, maxBytes = Infinity): Buffer {
  const bytes = part !== undefined && BASE64URL.test(part) ? Buffer.from(part, "base64url") : undefined;
  if (!bytes || bytes.length < minBytes || bytes.length > maxBytes || bytes.toString("base64url") !== part) {
    throw new SecretDecryptionError("malformed", `the encrypted value is malformed (bad ${what})`);
  }
  return bytes;
}

/** Decrypts what `encryptSecret` stored, with the same associated data; throws SecretDecryptionError. */
export function decryptSecret(masterKey: MasterKey, value: string, associatedData: string): Buffer {
  const parts = value.split(".");
  if (parts[0] !== VERSION) {
    throw new SecretDecryptionError("unsupported_version", `the encrypted value has format "${(parts[0] ?? "").slice(0, 8)}", not ${VERSION}; was it written by a newer Workforce?`);
  }
  if (parts.length !== 6) throw new SecretDecryptionError("malformed", `the encrypted value is malformed (${parts.length} parts, not 6)`);
  const id = parts[1] ?? "";
  if (!MASTER_KEY_ID.test(id)) throw new SecretDecryptionError("malformed", "the encrypted value is malformed (bad master key id)");
  const wrapNonce = decode(parts[2], "wrap nonce", NONCE_BYTES, NONCE_BYTES);
  const wrappedKey = decode(parts[3], "wrapped data key", DATA_KEY_BYTES + TAG_BYTES, DATA_KEY_BYTES + TAG_BYTES);
  const nonce = decode(parts[4], "nonce", NONCE_BYTES, NONCE_BYTES);
  const sealed = decode(parts[5], "ciphertext", TAG_BYTES);
  if (id !== masterKey.id) {
    throw new SecretDecryptionError("wrong_master_key", `this value was encrypted with master key ${id}, not the configured one (${masterKey.id})`, id);
  }
  let dataKey: Buffer | undefined;
  try {
    dataKey = open(masterKey.key, wrapNonce, wrappedKey, additionalData("wrap", id, associatedData));
    return open(dataKey, nonce, sealed, additionalData("data", id, associatedData));
  } catch {
    throw new SecretDecryptionError("tampered", "the encrypted value does not authenticate: it was altered, or it belongs to another row");
  } finally {
    dataKey?.fill(0);
  }
}
