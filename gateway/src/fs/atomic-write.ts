import { randomBytes } from "node:crypto";
import { constants, renameSync, unlinkSync } from "node:fs";
import path from "node:path";
import { fsyncFd, withFd, writeAllSync } from "./sync-file";

/**
 * Replaces `filePath` atomically: write a temp file beside it, fsync, rename over the target,
 * then fsync the directory so the rename itself survives a crash. Readers see old or new, never half.
 * The two fsyncs run off the event loop; the rest are microsecond system calls (see sync-file).
 * `durable: false` skips both: still all-or-nothing for readers and after a process crash, but
 * after a power loss the file may be old or empty, so only for files whose content is durable
 * elsewhere (sessions.json between compactions: its journal). `beforeRename` runs once the temp file
 * is complete, just before it replaces the target; throwing there writes nothing (a fenced writer's
 * last check that it still holds its lease).
 */
export async function writeFileAtomic(
  filePath: string,
  data: string | Buffer,
  mode = 0o600,
  options: { durable?: boolean; beforeRename?: () => Promise<void> | void } = {},
): Promise<void> {
  const durable = options.durable !== false;
  const directory = path.dirname(filePath);
  const temp = path.join(directory, `.${path.basename(filePath)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await withFd(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode, async (fd) => {
      writeAllSync(fd, data);
      if (durable) await fsyncFd(fd);
    });
    await options.beforeRename?.();
    renameSync(temp, filePath);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already renamed
    }
    throw error;
  }
  if (durable) await syncDirectory(directory);
}

/** fsync on a directory makes a create/rename durable; some file systems refuse it, which is fine. */
export async function syncDirectory(directory: string): Promise<void> {
  try {
    await withFd(directory, constants.O_RDONLY, 0, fsyncFd);
  } catch {
    // best effort: not every platform allows fsync on a directory
  }
}
