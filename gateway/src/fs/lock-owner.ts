import { closeSync, fstatSync, openSync, readFileSync, readlinkSync } from "node:fs";
import os from "node:os";
import { z } from "zod";
import { errnoCode } from "./errno";
import { parseJson } from "./jsonl-file";

/**
 * Who holds a lock file. `host` names the machine and PID namespace, so a process id is only
 * checked for liveness where it means the same process (not across containers or machines).
 * `since` is the process's start time in clock ticks since boot (Linux), so a pid reused by a
 * later process is not mistaken for the holder.
 */
export const LockOwner = z.object({
  host: z.string(),
  pid: z.number().int(),
  token: z.string(),
  startedAt: z.string().optional(),
  since: z.string().optional(),
});
export type LockOwner = z.infer<typeof LockOwner>;

/** A lock (or break) file as found on disk: its holder (undefined while unreadable), inode and age by this node's clock. */
export interface LockFile {
  owner: LockOwner | undefined;
  ino: bigint;
  ageMs: number;
}

/** Host identity: the machine name plus the PID namespace, so containers sharing a hostname stay distinct. */
export function lockHostId(): string {
  let namespace = "";
  try {
    namespace = readlinkSync("/proc/self/ns/pid");
  } catch {
    // not Linux: the hostname alone
  }
  return namespace ? `${os.hostname()}/${namespace}` : os.hostname();
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}

/** When process `pid` started, in clock ticks since boot (field 22 of /proc/<pid>/stat); undefined where unknown. */
export function processStartTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is parenthesised and may hold spaces: count fields after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
  } catch {
    return undefined;
  }
}

/**
 * Reads a lock file's holder and inode through one descriptor, so both describe the same file
 * even when the name is replaced meanwhile; undefined when there is none.
 */
export function readLockFile(file: string): LockFile | undefined {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw error;
  }
  try {
    const stat = fstatSync(fd, { bigint: true });
    const parsed = LockOwner.safeParse(parseJson(readFileSync(fd, "utf8")));
    return { owner: parsed.success ? parsed.data : undefined, ino: stat.ino, ageMs: Date.now() - Number(stat.mtimeMs) };
  } finally {
    closeSync(fd);
  }
}

/** Whether the holder `owner`, which ran on this host (same PID namespace), is still running. */
export function sameHostHolderAlive(owner: LockOwner): boolean {
  if (!processAlive(owner.pid)) return false;
  if (owner.since === undefined) return true;
  const since = processStartTicks(owner.pid);
  return since === undefined || since === owner.since;
}
