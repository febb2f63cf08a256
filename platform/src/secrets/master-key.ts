import { createHash, createSecretKey, randomBytes, type KeyObject } from "node:crypto";
import { link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import path from "node:path";
import { MASTER_KEY_BYTES, parseMasterKey, previousKeyFile, type SecretKeyConfig } from "./secret-key-config";

/**
 * The key that encrypts secrets at rest. Held as a KeyObject so that logging or serialising it
 * never prints the bytes; `id` names it in stored values and error messages.
 */
export interface MasterKey {
  /** First 8 bytes of the key's SHA-256, hex: identifies the key without revealing it. */
  readonly id: string;
  readonly key: KeyObject;
}

export interface LoadedMasterKey {
  masterKey: MasterKey;
  /**
   * The key being rotated away from (decision 029): WORKFORCE_SECRET_KEY_PREVIOUS, or the key
   * file's `.previous` beside it while `secrets rotate-master-key` has not finished. Decrypts only.
   */
  previous: MasterKey | undefined;
  source: "env" | "file";
  /** The key file, when the key came from one. */
  path: string | undefined;
  /** True when this call created the key file. */
  created: boolean;
  /** Lines for the caller to print (a new key file to back up, a file others can read). */
  warnings: string[];
}

/** Why the master key cannot be loaded; the message says what to do. */
export class MasterKeyError extends Error {
  override name = "MasterKeyError";
}

/** The id stored beside every value a key encrypts. */
export function masterKeyId(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest().subarray(0, 8).toString("hex");
}

export function masterKeyFromBytes(bytes: Uint8Array): MasterKey {
  if (bytes.length !== MASTER_KEY_BYTES) throw new MasterKeyError(`a master key is ${MASTER_KEY_BYTES} bytes, not ${bytes.length}`);
  return Object.freeze({ id: masterKeyId(bytes), key: createSecretKey(Buffer.from(bytes)) });
}

/** A fresh random master key (tests, and the key file's first start). */
export function generateMasterKey(): MasterKey {
  return masterKeyFromBytes(randomBytes(MASTER_KEY_BYTES));
}

/**
 * The master key from WORKFORCE_SECRET_KEY or the key file. A missing file is created (unless
 * `create` is false, as for the operator CLI, which must use the platform's key rather than make
 * one of its own).
 */
export async function loadMasterKey(config: SecretKeyConfig, options: { create?: boolean } = {}): Promise<LoadedMasterKey> {
  if (config.source === "env") {
    const previous = config.previous ? masterKeyFromBytes(config.previous) : undefined;
    const warnings = previous
      ? [`WORKFORCE_SECRET_KEY_PREVIOUS (master key ${previous.id}) is set: run \`npm run workforce -- secrets rotate-master-key\`, then remove it`]
      : [];
    return { masterKey: masterKeyFromBytes(config.key), previous, source: "env", path: undefined, created: false, warnings };
  }
  const file = config.path;
  let created = false;
  if (options.create !== false) created = await createKeyFile(file);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") {
      throw new MasterKeyError(
        `no master key: WORKFORCE_SECRET_KEY is unset and ${file} does not exist; run with the platform's WORKFORCE_SECRET_KEY or WORKFORCE_SECRET_KEY_FILE`,
      );
    }
    throw new MasterKeyError(`cannot read the master key file ${file}: ${(error as Error).message}`);
  }
  const parsed = parseMasterKey(text);
  if (!parsed.ok) throw new MasterKeyError(`the master key file ${file} is damaged (it must hold ${MASTER_KEY_BYTES} bytes in base64 on one line); restore it from your backup`);
  const masterKey = masterKeyFromBytes(parsed.key);
  const previous = await readPreviousKeyFile(file);

  const warnings: string[] = [];
  if (previous && previous.id !== masterKey.id) {
    warnings.push(`a master-key rotation has not finished (${previousKeyFile(file)} is still there): run \`npm run workforce -- secrets rotate-master-key\` to finish it`);
  }
  if (created) {
    warnings.push(
      `created a new master key in ${file}. Back up ${file}: without it the organisations' integration secrets (model keys, MCP and Composio credentials, webhook secrets) and the signing keys cannot be read, and are lost for good; ` +
        "several platform processes must share WORKFORCE_SECRET_KEY (set it to this file's contents on each).",
    );
  }
  const mode = (await stat(file)).mode & 0o777;
  if (process.platform !== "win32" && (mode & 0o077) !== 0) {
    warnings.push(`the master key file ${file} can be read by other users (mode ${mode.toString(8)}); run: chmod 600 ${file}`);
  }
  return { masterKey, previous: previous?.id === masterKey.id ? undefined : previous, source: "file", path: file, created, warnings };
}

/** The old key a file-mode rotation keeps beside the new one until everything is re-wrapped; undefined when there is none. */
export async function readPreviousKeyFile(file: string): Promise<MasterKey | undefined> {
  const previousFile = previousKeyFile(file);
  let text: string;
  try {
    text = await readFile(previousFile, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new MasterKeyError(`cannot read the previous master key file ${previousFile}: ${(error as Error).message}`);
  }
  const parsed = parseMasterKey(text);
  if (!parsed.ok) throw new MasterKeyError(`the previous master key file ${previousFile} is damaged; restore it from your backup of ${file}`);
  return masterKeyFromBytes(parsed.key);
}

/**
 * Creates the key file when it does not exist; returns whether this call created it. The key is
 * written to a private temporary file first (`wx`, mode 0600, fsynced) and then hard-linked into
 * place: the link either appears complete or fails with EEXIST, so a process starting at the same
 * moment never reads a half-written key, and every racer ends up reading the one file that won.
 */
async function createKeyFile(file: string): Promise<boolean> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temporary = await writeNewKeyFile(file);
  try {
    try {
      await link(temporary, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw error;
    }
    await syncDirectory(dir);
    return true;
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
}

/**
 * Writes a fresh random key to a new private temporary file beside `file` (`wx`, mode 0600,
 * fsynced) and answers its path; the caller links or renames it into place and removes it.
 */
export async function writeNewKeyFile(file: string): Promise<string> {
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(temporary, "wx", 0o600);
  try {
    await handle.writeFile(`${randomBytes(MASTER_KEY_BYTES).toString("base64")}\n`);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await handle.close();
  return temporary;
}

/** Makes the new directory entry durable: a key lost to a power cut would orphan what it encrypted. */
export async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not every platform can fsync a directory (Windows); the file itself is synced.
  }
}
