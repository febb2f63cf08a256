import { statSync } from "node:fs";
import { isNotFound } from "./errno";

/**
 * Enough of a file's metadata to tell whether anyone changed it since we last looked: a rename
 * over it changes the inode (and birth time, should the inode number be reused), an append
 * changes the size. One synchronous stat, a few microseconds on a local disk.
 */
export interface FileIdentity {
  ino: bigint;
  birthtimeNs: bigint;
  size: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function fileIdentity(filePath: string): FileIdentity | undefined {
  try {
    const stat = statSync(filePath, { bigint: true });
    return { ino: stat.ino, birthtimeNs: stat.birthtimeNs, size: stat.size, mtimeNs: stat.mtimeNs, ctimeNs: stat.ctimeNs };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function sameIdentity(a: FileIdentity | undefined, b: FileIdentity | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.ino === b.ino && a.birthtimeNs === b.birthtimeNs && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** True when `now` is `before` with bytes appended (same file, grown). */
export function isAppendOf(before: FileIdentity | undefined, now: FileIdentity | undefined): boolean {
  return before !== undefined && now !== undefined && before.ino === now.ino && before.birthtimeNs === now.birthtimeNs && now.size > before.size;
}
