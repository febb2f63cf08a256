import { constants as fsConstants, type Stats } from "node:fs";
import { access, mkdir, stat, statfs } from "node:fs/promises";
import path from "node:path";

/**
 * Why TENANT_DATA_DIR cannot be used, said once for everyone who looks at it: the gateway at
 * start-up (which creates it) and `workforce doctor` (which only inspects it). Each kind has its
 * own cause and fix, so a file is never answered with `sudo mkdir -p`, and a read-only mount is
 * called read-only, not "permission denied" or ENOENT.
 */
export type DataDirProblemKind =
  | "not_absolute"
  | "not_a_directory"
  | "blocked_by_file"
  | "read_only"
  | "permission_denied"
  | "virtual_file_system"
  | "disk_full"
  | "other";

export interface DataDirProblem {
  kind: DataDirProblemKind;
  /** The path the failure happened at (the data dir or one of its ancestors). */
  at: string;
  cause: string;
  fix: string;
}

export class DataDirError extends Error {
  override name = "DataDirError";
  constructor(readonly problem: DataDirProblem) {
    super(`${problem.cause}. Fix: ${problem.fix}`);
  }
}

const HOME_FIX = "mkdir -p ~/data/tenants && export TENANT_DATA_DIR=$HOME/data/tenants";
const SAME_FOR_BOTH = "Use the same absolute TENANT_DATA_DIR for gateway and platform.";
/** statfs types of file systems that are views of the kernel, never storage. */
const VIRTUAL_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x64626720, "debugfs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
]);

function errnoOf(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}

function kindOfEntry(info: Stats): string {
  if (info.isFile()) return "a file";
  if (info.isCharacterDevice()) return "a character device";
  if (info.isBlockDevice()) return "a block device";
  if (info.isFIFO()) return "a named pipe";
  if (info.isSocket()) return "a socket";
  return "not a directory";
}

/** The problem a failed file-system call on `at` (the data dir or an ancestor) means for `dir`. */
export function explainDataDirError(dir: string, at: string, error: unknown, platform: NodeJS.Platform = process.platform): DataDirProblem {
  const code = errnoOf(error);
  switch (code) {
    case "EROFS":
      return {
        kind: "read_only",
        at,
        cause: `the file system holding ${at} is read-only (EROFS)`,
        fix:
          platform === "darwin"
            ? `on macOS (Catalina and later) the root file system is read-only: use a directory in your home, ${HOME_FIX}. ${SAME_FOR_BOTH}`
            : `mount a writable volume at ${dir} (in Docker or Kubernetes: a volume, not the image's file system), or choose a writable directory. ` +
              `On macOS the root file system is read-only: ${HOME_FIX}. ${SAME_FOR_BOTH}`,
      };
    case "EACCES":
    case "EPERM":
      return {
        kind: "permission_denied",
        at,
        cause: `permission denied on ${at} (${code})`,
        fix: `sudo mkdir -p ${dir} && sudo chown $USER ${dir} (the user the gateway runs as), or choose a directory you own: ${HOME_FIX}. ${SAME_FOR_BOTH}`,
      };
    case "ENOSPC":
    case "EDQUOT":
      return { kind: "disk_full", at, cause: `the disk holding ${at} is full (${code})`, fix: `free space on that disk, or move TENANT_DATA_DIR to a disk with room. ${SAME_FOR_BOTH}` };
    default:
      return { kind: "other", at, cause: `${at}: ${error instanceof Error ? error.message : String(error)}`, fix: `choose a writable directory, e.g. ${HOME_FIX}. ${SAME_FOR_BOTH}` };
  }
}

function notADirectory(dir: string, at: string, info: Stats): DataDirProblem {
  const what = kindOfEntry(info);
  return at === dir
    ? { kind: "not_a_directory", at, cause: `${dir} is ${what}, not a directory`, fix: `set TENANT_DATA_DIR to a directory (it is created when missing), e.g. ${HOME_FIX}. ${SAME_FOR_BOTH}` }
    : {
        kind: "blocked_by_file",
        at,
        cause: `${at} is ${what}, so ${dir} cannot be created under it`,
        fix: `set TENANT_DATA_DIR to a path whose parents are directories, e.g. ${HOME_FIX}. ${SAME_FOR_BOTH}`,
      };
}

function virtualFileSystem(dir: string, at: string, type: string): DataDirProblem {
  return {
    kind: "virtual_file_system",
    at,
    cause: `${at} is on a virtual file system (${type}) that holds no files: nothing can be stored under it`,
    fix: `set TENANT_DATA_DIR to a directory on a real disk, e.g. ${HOME_FIX}. ${SAME_FOR_BOTH}`,
  };
}

/** The name of the kernel file system `at` lives on when it is a virtual one (proc, sysfs …). */
async function virtualTypeOf(at: string): Promise<string | undefined> {
  try {
    return VIRTUAL_FILE_SYSTEMS.get((await statfs(at)).type);
  } catch {
    return undefined;
  }
}

/** The deepest existing ancestor of `dir` (or `dir` itself) and the levels below it that are missing. */
async function existingAncestor(dir: string): Promise<{ at: string; info: Stats; missing: string[] }> {
  const missing: string[] = [];
  let probe = dir;
  for (;;) {
    try {
      return { at: probe, info: await stat(probe), missing };
    } catch (error) {
      const code = errnoOf(error);
      // ENOTDIR: some ancestor is a file; keep climbing to name it.
      if ((code !== "ENOENT" && code !== "ENOTDIR") || path.dirname(probe) === probe) throw new DataDirError(explainDataDirError(dir, probe, error));
      missing.unshift(probe);
      probe = path.dirname(probe);
    }
  }
}

function checkedAbsolute(dir: string): string {
  if (!path.isAbsolute(dir)) {
    throw new DataDirError({ kind: "not_absolute", at: dir, cause: `TENANT_DATA_DIR must be an absolute path, got "${dir}"`, fix: `give the full path, e.g. ${HOME_FIX}. ${SAME_FOR_BOTH}` });
  }
  return path.resolve(dir);
}

async function checkWritable(dir: string, at: string): Promise<void> {
  const type = await virtualTypeOf(at);
  if (type) throw new DataDirError(virtualFileSystem(dir, at, type));
  try {
    await access(at, fsConstants.W_OK);
  } catch (error) {
    throw new DataDirError(explainDataDirError(dir, at, error));
  }
}

/**
 * `mkdir -p` for TENANT_DATA_DIR, one level at a time, so every failure has its true reason
 * (Node's recursive mkdir loops forever under /proc, and answers ENOENT on a read-only mount),
 * then proves the directory writable. Throws DataDirError.
 */
export async function createDataDir(dir: string): Promise<void> {
  const absolute = checkedAbsolute(dir);
  const { at, info, missing } = await existingAncestor(absolute);
  if (!info.isDirectory()) throw new DataDirError(notADirectory(absolute, at, info));
  for (const level of missing) {
    try {
      await mkdir(level, { mode: 0o700 });
    } catch (error) {
      const code = errnoOf(error);
      if (code === "EEXIST") {
        const raced = await stat(level);
        if (raced.isDirectory()) continue;
        throw new DataDirError(notADirectory(absolute, level, raced));
      }
      const parent = path.dirname(level);
      // ENOENT although the parent exists: a kernel view such as /proc, where mkdir can never succeed.
      if (code === "ENOENT") throw new DataDirError(virtualFileSystem(absolute, parent, (await virtualTypeOf(parent)) ?? "it refuses new directories"));
      throw new DataDirError(explainDataDirError(absolute, level, error));
    }
  }
  await checkWritable(absolute, absolute);
}

/** What `workforce doctor` learns about TENANT_DATA_DIR without changing anything. */
export interface DataDirInspection {
  exists: boolean;
  /** Undefined when the gateway can use it (creating it first when it does not exist). */
  problem?: DataDirProblem;
}

export async function inspectDataDir(dir: string): Promise<DataDirInspection> {
  try {
    const absolute = checkedAbsolute(dir);
    const { at, info, missing } = await existingAncestor(absolute);
    if (!info.isDirectory()) return { exists: false, problem: notADirectory(absolute, at, info) };
    await checkWritable(absolute, at);
    return { exists: missing.length === 0 };
  } catch (error) {
    if (error instanceof DataDirError) return { exists: false, problem: error.problem };
    throw error;
  }
}
