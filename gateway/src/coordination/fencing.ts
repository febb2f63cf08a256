import { AppError } from "@workforce/protocol";
import type { Lease } from "./leases";

/**
 * The refusal of a write whose fencing token is older than one already recorded, or whose lease
 * was lost before it could write: a newer holder owns the data now. Retryable: a retry takes the
 * lease again, with a newer token.
 */
export function fencedOut(what: string): AppError {
  return new AppError("storage_unavailable", `another gateway took over ${what} meanwhile; nothing was written, try again`, { retryable: true });
}

/** Throws `fencedOut` when the lease is lost or a token newer than its own is already recorded. */
export function assertFence(lease: Lease, recorded: number | undefined, what: string): void {
  if (lease.lost.aborted || (recorded !== undefined && recorded > lease.token)) throw fencedOut(what);
}
