import type { Stats } from "node:fs";
import { lstat, readdir } from "node:fs/promises";
import path from "node:path";
import { errnoCode, isNotFound } from "./errno";

/**
 * Told of every change a writer made to a tenant's files: bytes added (negative when removed).
 * Writers call it after the change reached the disk; the disk-usage tracker keeps the running figure.
 */
export type DiskChange = (tenantId: string, bytes: number) => void;

/** Guards a tenant's writes against its disk quota, and hears what they changed. */
export interface DiskGuard {
  /** Throws tenant_quota_exceeded when `incomingBytes` more would take the tenant over its quota. */
  assertRoom(tenantId: string, incomingBytes: number): Promise<void>;
  changed: DiskChange;
}

/** The size of a file (0 when it does not exist); symbolic links count as nothing. */
export async function fileBytes(filePath: string): Promise<number> {
  const info = await lstatIfPresent(filePath);
  return info?.isFile() ? info.size : 0;
}

/**
 * Lock files (`config.json.lock`, a transcript's `.jsonl.lock` and `.jsonl.run.lock`, the break files of
 * take-overs `.lock.stale-*`) come and go with every write and are never reported as changes, so walks that
 * feed the disk figure do not count them either.
 */
export function isLockFile(file: string): boolean {
  return /\.lock(\.stale-[0-9a-f]+)?$/.test(file);
}

/** How many entries of one directory are stat'ed at once during a walk. */
const WALK_BATCH = 64;

/**
 * The bytes of the regular files under `root` (0 when it does not exist), by their apparent size.
 * Symbolic links are not followed; files that vanish mid-walk, or that `ignore` names, count as nothing. One directory at
 * a time with a bounded batch of stats, so a big tree never floods the thread pool.
 */
export async function treeBytes(root: string, options: { ignore?: (file: string) => boolean } = {}): Promise<number> {
  let total = 0;
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if (isNotFound(error) || errnoCode(error) === "ENOTDIR") continue;
      throw error;
    }
    for (let start = 0; start < names.length; start += WALK_BATCH) {
      const batch = names.slice(start, start + WALK_BATCH).map((name) => path.join(dir, name));
      const infos = await Promise.all(batch.map((entry) => lstatIfPresent(entry)));
      infos.forEach((info, index) => {
        if (info?.isFile()) total += options.ignore?.(batch[index] as string) ? 0 : info.size;
        else if (info?.isDirectory()) pending.push(batch[index] as string);
      });
    }
  }
  return total;
}

async function lstatIfPresent(file: string): Promise<Stats | undefined> {
  try {
    return await lstat(file);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
