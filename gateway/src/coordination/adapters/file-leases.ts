import { readFileSync } from "node:fs";
import { AppError } from "@workforce/protocol";
import { LockOwner, type FileLocks } from "../../fs/file-lock";
import { parseJson } from "../../fs/jsonl-file";
import type { Lease, Leases } from "../leases";

export interface FileLeasesOptions {
  /** The lock files (exclusive across processes on one machine's storage, and in arrival order within this one). */
  locks: FileLocks;
  /** Where the lock file of a lease key lives; the caller resolves it through the tenant-path helper. */
  lockPath: (key: string) => string;
}

/**
 * Leases as lock files, for one machine without Redis. Nothing needs fencing there (token 0):
 * a lock file is only taken over from a dead process, so `lost` never fires; `tookOver` says a
 * dead holder's lock was taken over.
 */
export function createFileLeases(options: FileLeasesOptions): Leases {
  /** Keys held by this process: `tryAcquire` must not queue behind them. */
  const heldHere = new Set<string>();

  async function take(key: string, timeoutMs: number | undefined, signal: AbortSignal | undefined): Promise<Lease> {
    const lockPath = options.lockPath(key);
    return new Promise<Lease>((resolve, reject) => {
      let granted = false;
      options.locks
        .run(
          lockPath,
          (held) =>
            new Promise<void>((releaseLock) => {
              granted = true;
              heldHere.add(key);
              const lost = new AbortController();
              let released = false;
              resolve({
                key,
                token: 0,
                tookOver: held.tookOver,
                lost: lost.signal,
                confirm: () => Promise.resolve(!released),
                release() {
                  if (released) return Promise.resolve();
                  released = true;
                  heldHere.delete(key);
                  lost.abort(new AppError("storage_unavailable", `released the lease on ${key}`, { retryable: true }));
                  releaseLock();
                  return Promise.resolve();
                },
              });
            }),
          { timeoutMs, signal },
        )
        .catch((error: unknown) => {
          if (!granted) reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
  }

  return {
    acquire: (key, wait = {}) => take(key, wait.timeoutMs, wait.signal),

    async tryAcquire(key) {
      if (heldHere.has(key)) return undefined;
      try {
        return await take(key, 0, undefined);
      } catch (error) {
        if (error instanceof AppError && error.code === "storage_unavailable") return undefined;
        throw error;
      }
    },

    holder(key) {
      let text: string;
      try {
        text = readFileSync(options.lockPath(key), "utf8");
      } catch {
        return Promise.resolve(undefined);
      }
      const owner = LockOwner.safeParse(parseJson(text));
      return Promise.resolve(owner.success ? `${owner.data.host}:${owner.data.pid}` : "an unknown holder");
    },

    close: () => Promise.resolve(),
  };
}
