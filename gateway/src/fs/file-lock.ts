import { randomBytes } from "node:crypto";
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  statSync,
  unlinkSync,
  utimesSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { AppError } from "@workforce/protocol";
import { z } from "zod";
import type { Logger } from "../logger";
import { errnoCode } from "./errno";
import { parseJson } from "./jsonl-file";
import { KeyedLock } from "./keyed-lock";

/**
 * Who holds a lock file. `host` names the machine and PID namespace, so a process id is only
 * checked for liveness where it means the same process (not across containers or machines).
 */
export const LockOwner = z.object({ host: z.string(), pid: z.number().int(), token: z.string(), startedAt: z.string().optional() });
export type LockOwner = z.infer<typeof LockOwner>;

export interface FileLocks {
  /**
   * Runs `task` while holding the lock file `lockPath`: exclusive across every process on the
   * same storage and, in this process, serialised in arrival order without touching the disk.
   */
  run<T>(lockPath: string, task: (held: HeldLock) => Promise<T>, options?: LockWaitOptions): Promise<T>;
  /** What a lock file left on disk says: held by a `live` process, `stale` (holder crashed or hung), or `absent`. */
  inspect(lockPath: string): "live" | "stale" | "absent";
  /** Removes a lock file that `inspect` finds stale; false when it is not (or someone else got there first). */
  removeStale(lockPath: string): boolean;
  /** Removes this process's owner file once no lock is held (shutdown). */
  close(): void;
}

/** What a task learns about the lock it runs under. */
export interface HeldLock {
  /** True when the lock was taken over from a holder that crashed or hung: whatever it guarded may be half-done. */
  tookOver: boolean;
}

/** How long one `run` may wait for its lock; defaults to the locks' timeout, no signal. */
export interface LockWaitOptions {
  timeoutMs?: number;
  /** Stops waiting (rejecting with the signal's reason) when aborted. */
  signal?: AbortSignal;
}

export interface FileLockOptions {
  logger: Logger;
  /**
   * Directory for this process's owner file, on the same file system as the locks (the gateway
   * uses `TENANT_DATA_DIR/.workforce-locks`). Owner files of dead processes are removed here.
   */
  ownerDir: string;
  /** A holder whose owner file has not been refreshed for this long is presumed dead or hung. */
  staleMs?: number;
  /** Give up waiting for a lock after this long (storage_unavailable). */
  timeoutMs?: number;
  /** This process; tests pass another to simulate a second machine. */
  owner?: { host: string; pid: number };
}

/** Locks that only serialise within this process; for benchmarks and single-process tools. */
export function createProcessLocks(): FileLocks {
  const keyed = new KeyedLock();
  return { run: (lockPath, task) => keyed.run(lockPath, () => task({ tookOver: false })), inspect: () => "absent", removeStale: () => false, close: () => undefined };
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Cross-process lock files, NFS-safe in the classic way: each process writes one owner file
 * (host, pid) and takes a lock by hard-linking it to the lock's name, which fails with EEXIST
 * while someone else holds it. Taking and releasing a lock is then two metadata calls (link,
 * unlink) plus a stat, with no new inode and no data to write: tens of microseconds, and nothing
 * for the file system journal to flush with the next fsync. (Creating a lock file with content
 * per lock measured ~1 ms per message on ext4, because its data block was written out with each
 * commit.) Where hard links are not supported, a lock file with the owner as content is created
 * with O_EXCL instead.
 *
 * A lock whose owner ran on this host is stale as soon as that process is gone; otherwise when
 * the owner file, which a live process touches every `staleMs / 3`, has not been touched for
 * `staleMs` (the holder died, or hangs with a blocked event loop).
 */
export function createFileLocks(options: FileLockOptions): FileLocks {
  const staleMs = options.staleMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const self = options.owner ?? { host: lockHostId(), pid: process.pid };
  const token = randomBytes(8).toString("hex");
  const ownerJson = JSON.stringify({ host: self.host, pid: self.pid, token, startedAt: new Date().toISOString() } satisfies LockOwner);
  const ownerFile = path.join(options.ownerDir, `${token}.owner`);
  const keyed = new KeyedLock();
  /** Locks held by this process, with the inode that proves it. */
  const held = new Map<string, bigint>();
  let ownerIno: bigint | undefined;
  let linksWork = true;
  let heartbeat: NodeJS.Timeout | undefined;

  function touch(file: string): void {
    try {
      const at = new Date();
      utimesSync(file, at, at);
    } catch {
      // released or taken over meanwhile; release() reports a take-over
    }
  }

  function ensureOwnerFile(): bigint {
    if (ownerIno !== undefined) return ownerIno;
    mkdirSync(options.ownerDir, { recursive: true, mode: 0o700 });
    removeDeadOwnerFiles();
    const fd = openSync(ownerFile, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    try {
      writeSync(fd, ownerJson);
      ownerIno = fstatSync(fd, { bigint: true }).ino;
    } finally {
      closeSync(fd);
    }
    heartbeat = setInterval(() => {
      touch(ownerFile);
      if (!linksWork) for (const lockPath of held.keys()) touch(lockPath);
    }, Math.max(20, Math.floor(staleMs / 3)));
    heartbeat.unref();
    return ownerIno;
  }

  function removeDeadOwnerFiles(): void {
    for (const name of readdirSync(options.ownerDir)) {
      if (!name.endsWith(".owner")) continue;
      const file = path.join(options.ownerDir, name);
      const found = readOwner(file);
      if (found && judge(found) === "stale") {
        try {
          unlinkSync(file);
        } catch {
          // another process cleaned it first
        }
      }
    }
  }

  /** Creates the lock; returns the inode that marks it ours, or undefined while someone else holds it. */
  function tryCreate(lockPath: string): bigint | undefined {
    const ino = ensureOwnerFile();
    if (linksWork) {
      try {
        linkSync(ownerFile, lockPath);
        return ino;
      } catch (error) {
        const code = errnoCode(error);
        if (code === "EEXIST") return undefined;
        if (code === "ENOENT" && !existsSync(ownerFile)) {
          // Another process judged this one dead (its event loop stalled past staleMs) and removed the owner file.
          ownerIno = undefined;
          if (heartbeat) clearInterval(heartbeat);
          return tryCreate(lockPath);
        }
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV" && code !== "EMLINK") throw error;
        options.logger.warn(`lock files: hard links are not supported under ${path.dirname(lockPath)} (${code}); using exclusive create instead`);
        linksWork = false;
      }
    }
    let fd: number;
    try {
      fd = openSync(lockPath, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
    } catch (error) {
      if (errnoCode(error) === "EEXIST") return undefined;
      throw error;
    }
    try {
      writeSync(fd, ownerJson);
      return fstatSync(fd, { bigint: true }).ino;
    } finally {
      closeSync(fd);
    }
  }

  function readOwner(lockPath: string): { owner: LockOwner | undefined; ino: bigint; ageMs: number } | undefined {
    try {
      const stat = statSync(lockPath, { bigint: true });
      const parsed = LockOwner.safeParse(parseJson(readFileSync(lockPath, "utf8")));
      return { owner: parsed.success ? parsed.data : undefined, ino: stat.ino, ageMs: Date.now() - Number(stat.mtimeMs) };
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return undefined;
      throw error;
    }
  }

  function judge(found: { owner: LockOwner | undefined; ageMs: number }): "live" | "stale" {
    const { owner, ageMs } = found;
    // Unreadable: its writer died between creating and writing it (exclusive-create mode), or is doing so right now.
    if (!owner) return ageMs > Math.min(staleMs, 2_000) ? "stale" : "live";
    if (owner.host === self.host && owner.pid !== self.pid && !processAlive(owner.pid)) return "stale";
    return ageMs > staleMs ? "stale" : "live";
  }

  /** Moves a stale lock aside, then makes sure it really was the one judged stale (not a fresh one taken meanwhile). */
  function removeStaleIno(lockPath: string, ino: bigint): boolean {
    const aside = `${lockPath}.stale-${randomBytes(4).toString("hex")}`;
    try {
      renameSync(lockPath, aside);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return false;
      throw error;
    }
    let moved: bigint;
    try {
      moved = statSync(aside, { bigint: true }).ino;
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return false;
      throw error;
    }
    if (moved !== ino) {
      try {
        linkSync(aside, lockPath);
      } catch (error) {
        options.logger.warn(`lock ${lockPath}: could not restore a lock taken over by mistake (${errnoCode(error) ?? String(error)})`);
      }
    }
    try {
      unlinkSync(aside);
    } catch (error) {
      if (errnoCode(error) !== "ENOENT") throw error;
    }
    return moved === ino;
  }

  function describe(owner: LockOwner | undefined): string {
    return owner ? `pid ${owner.pid} on ${owner.host}` : "an unknown holder";
  }

  async function acquire(lockPath: string, wait: LockWaitOptions): Promise<{ ino: bigint; tookOver: boolean }> {
    const started = Date.now();
    const limit = wait.timeoutMs ?? timeoutMs;
    let delay = 1;
    let tookOver = false;
    for (;;) {
      wait.signal?.throwIfAborted();
      const ino = tryCreate(lockPath);
      if (ino !== undefined) return { ino, tookOver };
      const found = readOwner(lockPath);
      if (found === undefined) continue; // released meanwhile
      if (judge(found) === "stale") {
        if (removeStaleIno(lockPath, found.ino)) {
          tookOver = true;
          options.logger.warn(`lock ${lockPath}: took over a stale lock left by ${describe(found.owner)}`);
        }
        continue;
      }
      if (Date.now() - started > limit) {
        // Where the lock is and who holds it is for the operator (the log), not for the client.
        options.logger.warn(`timed out after ${limit} ms waiting for lock ${lockPath}, held by ${describe(found.owner)}`);
        throw new AppError("storage_unavailable", `timed out after ${limit} ms waiting for another gateway process to finish with this data; try again shortly`, { retryable: true });
      }
      await sleep(delay + Math.random() * delay);
      delay = Math.min(delay * 2, wait.timeoutMs === undefined ? 25 : 100);
    }
  }

  function release(lockPath: string, ino: bigint): void {
    held.delete(lockPath);
    try {
      if (statSync(lockPath, { bigint: true }).ino !== ino) {
        options.logger.warn(`lock ${lockPath} was taken over while this process held it (unresponsive for ${staleMs} ms?); leaving the new holder's lock`);
        return;
      }
      unlinkSync(lockPath);
    } catch (error) {
      if (errnoCode(error) !== "ENOENT") throw error;
    }
  }

  return {
    run(lockPath, task, wait = {}) {
      return keyed.run(lockPath, async () => {
        let acquired: { ino: bigint; tookOver: boolean };
        try {
          acquired = await acquire(lockPath, wait);
        } catch (error) {
          // Nothing can be written here, by this process at least: reading needs no lock, writes fail on their own.
          if (errnoCode(error) === "EROFS") return task({ tookOver: false });
          throw error;
        }
        const { ino, tookOver } = acquired;
        held.set(lockPath, ino);
        try {
          return await task({ tookOver });
        } finally {
          release(lockPath, ino);
        }
      });
    },

    inspect(lockPath) {
      const found = readOwner(lockPath);
      return found ? judge(found) : "absent";
    },

    removeStale(lockPath) {
      const found = readOwner(lockPath);
      if (!found || judge(found) !== "stale") return false;
      return removeStaleIno(lockPath, found.ino);
    },

    close() {
      if (heartbeat) clearInterval(heartbeat);
      heartbeat = undefined;
      if (ownerIno === undefined || held.size > 0) return;
      try {
        unlinkSync(ownerFile);
      } catch {
        // already gone
      }
      ownerIno = undefined;
    },
  };
}
