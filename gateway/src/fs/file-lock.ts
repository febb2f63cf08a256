import { randomBytes } from "node:crypto";
import { closeSync, constants, existsSync, fstatSync, linkSync, mkdirSync, openSync, readdirSync, statSync, unlinkSync, utimesSync, writeSync } from "node:fs";
import path from "node:path";
import { AppError } from "@workforce/protocol";
import type { Logger } from "../logger";
import { errnoCode } from "./errno";
import { KeyedLock } from "./keyed-lock";
import { lockHostId, processStartTicks, readLockFile, sameHostHolderAlive, type LockFile, type LockOwner } from "./lock-owner";

export { lockHostId, LockOwner } from "./lock-owner";

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
  /**
   * Awaited between the steps of a stale-lock take-over, so tests can interleave several
   * breakers step by step; production passes nothing and a take-over runs without a pause.
   */
  takeOverPause?: (step: TakeOverStep) => Promise<void>;
}

/** The points in a take-over where another process may act: after judging a lock stale, holding its break file, re-checking it. */
export type TakeOverStep = "judged" | "break-held" | "verified";

/** More dead breakers than this on one stale lock is not a crash but a fault worth an error. */
const MAX_BREAK_GENERATIONS = 64;

/**
 * The break file serialising the take-over of the stale lock whose inode is `ino`: one per
 * generation, the next used only once the breaker holding the previous one died. Named like the
 * aside files of earlier versions (`<lock>.stale-<hex>`), which the registry clears when old and
 * backups and disk usage ignore.
 */
export function breakFilePath(lockPath: string, ino: bigint, generation: number): string {
  return `${lockPath}.stale-${ino.toString(16).padStart(16, "0")}${generation.toString(16).padStart(2, "0")}`;
}

/** Locks that only serialise within this process; for benchmarks and single-process tools. */
export function createProcessLocks(): FileLocks {
  const keyed = new KeyedLock();
  return { run: (lockPath, task) => keyed.run(lockPath, () => task({ tookOver: false })), inspect: () => "absent", removeStale: () => false, close: () => undefined };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a take-over's steps straight through. */
function runSteps(steps: Generator<TakeOverStep, boolean>): boolean {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Runs a take-over's steps with `pause` awaited between them (its `finally` runs whatever happens). */
async function runStepsPaused(steps: Generator<TakeOverStep, boolean>, pause: ((step: TakeOverStep) => Promise<void>) | undefined): Promise<boolean> {
  if (!pause) return runSteps(steps);
  try {
    for (;;) {
      const next = steps.next();
      if (next.done) return next.value;
      await pause(next.value);
    }
  } finally {
    steps.return(false);
  }
}

function unlinkIfPresent(file: string): boolean {
  try {
    unlinkSync(file);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}

/**
 * Cross-process lock files, NFS-safe in the classic way: each process writes one owner file
 * (host, pid) and takes a lock by hard-linking it to the lock's name, which fails with EEXIST
 * while someone else holds it. Taking and releasing a lock is then two metadata calls (link,
 * unlink) plus a stat, with no new inode and no data to write: tens of microseconds, and nothing
 * for the file system journal to flush with the next fsync. (Creating a lock file with content
 * per lock measured ~1 ms per message on ext4, because its data block was written out with each
 * commit.) Where hard links are not supported, a lock file with the owner as content is created
 * with O_EXCL instead. EEXIST on a file that carries this process's own token (a retried NFS
 * LINK or CREATE whose first attempt succeeded) means the lock is ours.
 *
 * A lock whose owner ran on this host is stale once that process is gone, judged by its pid and
 * start time alone, never by a clock. A lock of another host (several machines sharing the data
 * dir, which needs REDIS_URL to be safe) is stale once its owner file, which a live process
 * touches every `staleMs / 3`, has not been touched for `staleMs`.
 *
 * Taking over a stale lock: breakers serialise on a break file for that lock's inode (created
 * like a lock; the next generation's once its breaker died), re-check under it that the lock is
 * still that inode and still stale, and only then remove it. No lock is ever moved or removed
 * that might be fresh, so there is never a second holder on one host.
 */
export function createFileLocks(options: FileLockOptions): FileLocks {
  const staleMs = options.staleMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const self = options.owner ?? { host: lockHostId(), pid: process.pid };
  const token = randomBytes(8).toString("hex");
  const since = processStartTicks(self.pid);
  const ownerJson = JSON.stringify({ host: self.host, pid: self.pid, token, startedAt: new Date().toISOString(), since } satisfies LockOwner);
  const ownerFile = path.join(options.ownerDir, `${token}.owner`);
  const keyed = new KeyedLock();
  /** Locks and break files held by this process, with the inode that proves it. */
  const held = new Map<string, bigint>();
  let ownerIno: bigint | undefined;
  let linksWork = true;
  let heartbeat: NodeJS.Timeout | undefined;
  let warnedOtherHost = false;

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
      const found = readLockFile(file);
      if (found && judge(found) === "stale") {
        try {
          unlinkSync(file);
        } catch {
          // another process cleaned it first
        }
      }
    }
  }

  /** Creates the file; returns the inode that marks it ours, or undefined when it exists. */
  function tryCreate(file: string): bigint | undefined {
    const ino = ensureOwnerFile();
    if (linksWork) {
      try {
        linkSync(ownerFile, file);
        return ino;
      } catch (error) {
        const code = errnoCode(error);
        if (code === "EEXIST") return undefined;
        if (code === "ENOENT" && !existsSync(ownerFile)) {
          // Another process judged this one dead (its event loop stalled past staleMs) and removed the owner file.
          ownerIno = undefined;
          if (heartbeat) clearInterval(heartbeat);
          return tryCreate(file);
        }
        if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV" && code !== "EMLINK") throw error;
        options.logger.warn(`lock files: hard links are not supported under ${path.dirname(file)} (${code}); using exclusive create instead`);
        linksWork = false;
      }
    }
    let fd: number;
    try {
      fd = openSync(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o600);
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

  /** Creates a lock or break file: its inode when it is ours now, else what holds it (undefined when it vanished meanwhile). */
  function claim(file: string): { ino: bigint } | { found: LockFile | undefined } {
    const ino = tryCreate(file);
    if (ino !== undefined) return { ino };
    const found = readLockFile(file);
    // Our own token on a file we do not hold: a retried NFS LINK (or exclusive CREATE) whose first
    // attempt succeeded answered EEXIST. In this process one path is claimed by one caller at a time.
    if (found?.owner?.token === token && !held.has(file)) {
      options.logger.warn(`lock ${file}: found this process's own link (a retried file system call that had succeeded); taking it`);
      return { ino: found.ino };
    }
    return { found };
  }

  function judge(found: LockFile, lockPath?: string): "live" | "stale" {
    const { owner, ageMs } = found;
    // Unreadable: its writer died between creating and writing it (exclusive-create mode), or is doing so right now.
    if (!owner) return ageMs > Math.min(staleMs, 2_000) ? "stale" : "live";
    if (owner.host === self.host) return owner.token === token || sameHostHolderAlive(owner) ? "live" : "stale";
    if (ageMs > staleMs) return "stale";
    if (lockPath !== undefined && !warnedOtherHost) {
      warnedOtherHost = true;
      options.logger.warn(
        `lock ${lockPath} is held by ${describe(owner)}, another machine or PID namespace than this gateway (${self.host}): ` +
          "gateways on several machines sharing TENANT_DATA_DIR need REDIS_URL (docs/decisions/003); without it a lock " +
          "held by another host is judged stale by file times, which depend on both clocks and on NFS attribute caches",
      );
    }
    return "live";
  }

  /** Removes the stale lock `stale`, serialised with every other breaker of that inode by a break file. */
  function* takeOver(lockPath: string, stale: LockFile): Generator<TakeOverStep, boolean> {
    yield "judged";
    for (let generation = 0; generation < MAX_BREAK_GENERATIONS; generation += 1) {
      const breakPath = breakFilePath(lockPath, stale.ino, generation);
      const claimed = claim(breakPath);
      if (!("ino" in claimed)) {
        if (claimed.found === undefined) generation -= 1; // its breaker just finished: this generation again
        else if (judge(claimed.found) === "live") return false; // another breaker is at it
        continue; // that breaker died: the next generation
      }
      held.set(breakPath, claimed.ino);
      try {
        yield "break-held";
        const current = readLockFile(lockPath);
        if (current?.ino !== stale.ino || judge(current, lockPath) !== "stale") return false;
        yield "verified";
        if (!unlinkIfPresent(lockPath)) return false;
        for (let dead = 0; dead < generation; dead += 1) unlinkIfPresent(breakFilePath(lockPath, stale.ino, dead));
        return true;
      } finally {
        release(breakPath, claimed.ino);
      }
    }
    throw new Error(`lock ${lockPath}: ${MAX_BREAK_GENERATIONS} processes died while taking over one stale lock`);
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
      const claimed = claim(lockPath);
      if ("ino" in claimed) return { ino: claimed.ino, tookOver };
      const { found } = claimed;
      if (found === undefined) continue; // released meanwhile
      if (judge(found, lockPath) === "stale" && (await runStepsPaused(takeOver(lockPath, found), options.takeOverPause))) {
        tookOver = true;
        options.logger.warn(`lock ${lockPath}: took over a stale lock left by ${describe(found.owner)}`);
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

  function release(file: string, ino: bigint): void {
    held.delete(file);
    try {
      if (statSync(file, { bigint: true }).ino !== ino) {
        options.logger.warn(`lock ${file} was taken over while this process held it (unresponsive for ${staleMs} ms?); leaving the new holder's lock`);
        return;
      }
      unlinkSync(file);
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
      const found = readLockFile(lockPath);
      return found ? judge(found, lockPath) : "absent";
    },

    removeStale(lockPath) {
      const found = readLockFile(lockPath);
      if (!found || judge(found, lockPath) !== "stale") return false;
      return runSteps(takeOver(lockPath, found));
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
