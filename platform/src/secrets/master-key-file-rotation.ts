import { link, rename, unlink } from "node:fs/promises";
import path from "node:path";
import { loadMasterKey, MasterKeyError, readPreviousKeyFile, syncDirectory, writeNewKeyFile, type MasterKey } from "./master-key";
import { previousKeyFile } from "./secret-key-config";

/**
 * The key-file half of a master-key rotation (embedded `npm start`, decision 029). The old key is
 * first hard-linked to `<file>.previous` (atomic: the link appears whole or not at all), then a new
 * key written to a private temporary file is renamed over `<file>` (atomic too). At every instant
 * both names hold complete keys, and whatever happens the platform starts with the new key as
 * current and the old one as previous: values not re-wrapped yet still decrypt. The previous file
 * is removed only once nothing needs it (`finishKeyFileRotation`).
 */
export interface KeyFileRotation {
  current: MasterKey;
  previous: MasterKey;
  /** True when an earlier, interrupted rotation is being finished (no new key was made). */
  resumed: boolean;
}

/** Makes a new key (or resumes an interrupted rotation); answers both keys. */
export async function beginKeyFileRotation(file: string): Promise<KeyFileRotation> {
  const loaded = await loadMasterKey({ source: "file", path: file }, { create: false });
  const old = await readPreviousKeyFile(file);
  if (old && old.id !== loaded.masterKey.id) return { current: loaded.masterKey, previous: old, resumed: true };
  if (!old) {
    try {
      await link(file, previousKeyFile(file));
    } catch (error) {
      throw new MasterKeyError(`cannot keep the old master key as ${previousKeyFile(file)}: ${(error as Error).message}`);
    }
  }
  // Either just linked, or an earlier run stopped between the link and the rename: the previous
  // file holds the current key, which is now replaced.
  const temporary = await writeNewKeyFile(file);
  try {
    await rename(temporary, file);
  } catch (error) {
    await unlink(temporary).catch(() => undefined);
    throw new MasterKeyError(`cannot write the new master key to ${file}: ${(error as Error).message}`);
  }
  await syncDirectory(path.dirname(file));
  const rotated = await loadMasterKey({ source: "file", path: file }, { create: false });
  return { current: rotated.masterKey, previous: loaded.masterKey, resumed: false };
}

/** Removes the old key once every value is re-wrapped under the new one. */
export async function finishKeyFileRotation(file: string): Promise<void> {
  await unlink(previousKeyFile(file)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
  await syncDirectory(path.dirname(file));
}
