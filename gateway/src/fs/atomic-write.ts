import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import path from "node:path";

/**
 * Replaces `filePath` atomically: write a temp file beside it, fsync, rename over the target,
 * then fsync the directory so the rename itself survives a crash. Readers see old or new, never half.
 */
export async function writeFileAtomic(filePath: string, data: string, mode = 0o600): Promise<void> {
  const directory = path.dirname(filePath);
  const temp = path.join(directory, `.${path.basename(filePath)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const handle = await open(temp, "w", mode);
    try {
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, filePath);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

/** fsync on a directory makes a create/rename durable; some file systems refuse it, which is fine. */
export async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort: not every platform allows fsync on a directory
  }
}
