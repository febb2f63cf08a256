import { execFileSync } from "node:child_process";
import { chmod, cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

/** What a client and the model are told about a directory made read-only, and how to undo it. */
export interface ReadOnlyDir {
  /** The error code writes there get: storage_read_only (EROFS) or storage_unavailable (EACCES). */
  code: "storage_read_only" | "storage_unavailable";
  /** The wording the model gets from a failed workspace write. */
  told: string;
  restore: () => Promise<void>;
}

/**
 * Makes `dir` unwritable for this process for real. As root (where chmod stops nothing) it becomes
 * a read-only tmpfs holding the same files (EROFS), as disk-faults does; otherwise it is chmod'ed
 * (EACCES).
 */
export async function makeReadOnly(dir: string): Promise<ReadOnlyDir> {
  if (process.getuid?.() !== 0) {
    // Every level: a writable subdirectory would still take new files.
    const entries = (await readdir(dir, { recursive: true, withFileTypes: true })).map((entry) => ({ file: path.join(entry.parentPath, entry.name), isDir: entry.isDirectory() }));
    const all = [...entries.reverse(), { file: dir, isDir: true }];
    for (const { file, isDir } of all) await chmod(file, isDir ? 0o500 : 0o400);
    return {
      code: "storage_unavailable",
      told: "The workspace cannot be written right now (a storage problem the operator has to fix)",
      restore: async () => {
        for (const { file, isDir } of all.reverse()) await chmod(file, isDir ? 0o700 : 0o600);
      },
    };
  }
  const copy = await mkdtemp(path.join(os.tmpdir(), "gateway-read-only-copy-"));
  await cp(dir, copy, { recursive: true });
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", dir], { stdio: "pipe" });
  await cp(copy, dir, { recursive: true });
  execFileSync("mount", ["-o", "remount,ro", dir], { stdio: "pipe" });
  return {
    code: "storage_read_only",
    told: "The workspace is read-only right now; files can be read but not written",
    restore: async () => {
      execFileSync("umount", ["-l", dir], { stdio: "pipe" });
      await rm(copy, { recursive: true, force: true });
    },
  };
}
