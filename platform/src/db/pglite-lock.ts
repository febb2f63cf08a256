import { randomUUID } from "node:crypto";
import { link, readFile, unlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { z } from "zod";

/**
 * PGlite is one Postgres in one process, and it does not lock its directory: a second process
 * opening the same PGLITE_DATA_DIR (a second `npm start`, or `npm run workforce` while the
 * platform runs) would write beside the first and corrupt it. This lock file makes the second
 * one stop with a readable message instead.
 */
export const LOCK_FILE = "workforce.lock";

/** Tells a lock this process took apart from one left by an earlier process that had the same pid (a container's pid 1). */
const THIS_PROCESS = randomUUID();

const LockContents = z.object({ pid: z.number().int(), hostname: z.string(), process: z.string(), since: z.string() });
type LockContents = z.infer<typeof LockContents>;

/** The embedded database is open in another process. */
export class DatabaseInUseError extends Error {
  override name = "DatabaseInUseError";
  constructor(
    readonly dataDir: string,
    readonly holder: { pid: number; hostname: string; since: string },
  ) {
    super(
      `the embedded database ${dataDir} is in use by another process (pid ${holder.pid} on ${holder.hostname}, since ${holder.since}); ` +
        "PGlite can be opened by one process at a time. Stop Workforce first, or use a Postgres server (DATABASE_URL), which several processes can share. " +
        `If no such process is running, delete ${path.join(dataDir, LOCK_FILE)}.`,
    );
  }
}

export interface PgliteLock {
  release(): Promise<void>;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function readLock(file: string): Promise<LockContents | undefined> {
  try {
    const parsed = LockContents.safeParse(JSON.parse(await readFile(file, "utf8")));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process that wrote a lock may still hold it. A lock from another host is assumed live (its pid means nothing here). */
function held(lock: LockContents | undefined): lock is LockContents {
  if (!lock) return false;
  if (lock.hostname !== os.hostname()) return true;
  if (lock.pid === process.pid) return lock.process === THIS_PROCESS;
  return isRunning(lock.pid);
}

/**
 * Takes the directory's lock, or throws DatabaseInUseError naming the process that has it. A lock
 * left by a process that is gone (killed, crashed) is taken over. Two processes taking over the
 * same stale lock in the same instant could both succeed; that needs a crash and two starts at
 * once, and PGlite offered no protection at all before.
 */
export async function lockPgliteDir(dataDir: string): Promise<PgliteLock> {
  const file = path.join(dataDir, LOCK_FILE);
  const mine: LockContents = { pid: process.pid, hostname: os.hostname(), process: THIS_PROCESS, since: new Date().toISOString() };
  // Written whole to a private file, then hard-linked into place: the lock never exists half-written.
  const temporary = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temporary, `${JSON.stringify(mine)}\n`, { flag: "wx", mode: 0o600 });
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        await link(temporary, file);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const existing = await readLock(file);
      if (held(existing)) throw new DatabaseInUseError(dataDir, existing);
      if (attempt >= 3) throw new Error(`cannot take the lock ${file}: it keeps reappearing`);
      await unlink(file).catch(() => undefined);
    }
  } finally {
    await unlink(temporary).catch(() => undefined);
  }
  return {
    async release() {
      const current = await readLock(file);
      if (current?.process === THIS_PROCESS && current.pid === process.pid) await unlink(file).catch(() => undefined);
    },
  };
}
