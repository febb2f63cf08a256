import { mkdir } from "node:fs/promises";
import path from "node:path";
import { AppError } from "@workforce/protocol";
import { errnoCode } from "./errno";

/**
 * File-system failures that are the operator's to fix, as the specific error a client can act on
 * (HTTP answers and a run's `run-end` alike); undefined for anything else.
 */
export function storageError(error: unknown): AppError | undefined {
  switch (errnoCode(error)) {
    case "EROFS":
      return new AppError("storage_read_only", "TENANT_DATA_DIR is on a read-only file system; see the gateway log", { cause: error });
    case "ENOSPC":
    case "EDQUOT":
      return new AppError("storage_full", "the disk holding TENANT_DATA_DIR is full", { cause: error });
    case "EMFILE":
    case "ENFILE":
      // Every stream holds sockets: a gateway near its descriptor limit says so instead of crashing runs.
      return new AppError("storage_unavailable", "the gateway has too many files open (its open-file limit, ulimit -n / LimitNOFILE, is too low for its load); try again shortly", { cause: error, retryable: true });
    case "EACCES":
    case "EPERM":
      return new AppError("storage_unavailable", "the gateway may not write to TENANT_DATA_DIR; check its owner and permissions", { cause: error });
    default:
      return undefined;
  }
}

/**
 * `mkdir -p` that reports why it failed. Node's recursive mkdir answers ENOENT on a read-only or
 * full file system; creating one level at a time surfaces EROFS / ENOSPC instead.
 */
export async function makeDirectory(dir: string, mode = 0o700): Promise<void> {
  try {
    await mkdir(dir, { mode });
  } catch (error) {
    const code = errnoCode(error);
    if (code === "EEXIST") return;
    if (code !== "ENOENT" || path.dirname(dir) === dir) throw error;
    await makeDirectory(path.dirname(dir), mode);
    try {
      await mkdir(dir, { mode });
    } catch (retry) {
      if (errnoCode(retry) !== "EEXIST") throw retry;
    }
  }
}
