import { AppError, type TranscriptLine } from "@workforce/protocol";
import type { Lease } from "../coordination/leases";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { runLeasePath } from "./session-registry";

/** The lease one run of a session holds, across every gateway: `run:{tenantId}/{agent}/{sessionId}`. */
export function runLeaseKey(tenantId: string, agent: string, sessionId: string): string {
  return `run:${tenantId}/${agent}/${sessionId}`;
}

/**
 * The lock file that stands for a run lease on one machine without Redis: the session's
 * `{sessionId}.jsonl.run.lock` (decision 003), every part checked by the tenant-path helper.
 */
export function runLeaseLockPath(dataDir: string, key: string): string {
  const parts = key.startsWith("run:") ? key.slice("run:".length).split("/") : [];
  const [tenantId, agent, sessionId] = parts;
  if (parts.length !== 3 || tenantId === undefined || agent === undefined || sessionId === undefined) {
    throw new AppError("invalid_path", `not a run lease key: ${key}`);
  }
  return runLeasePath(tenantPaths(dataDir, tenantId).agent(agent), sessionId);
}

/**
 * Lines as a run appends them under its lease: in cluster mode stamped with the lease's token,
 * once Redis confirmed (one round trip; the caller holds the in-process append lock) that the lease
 * is still this run's. Otherwise nothing may be written: a newer holder may be writing already.
 */
export async function fenceLines(grant: Lease, lines: readonly TranscriptLine[]): Promise<readonly TranscriptLine[]> {
  if (grant.token === 0) return lines; // one machine: lock files, nothing to fence
  await assertStillHeld(grant);
  return lines.map((line) => ({ ...line, fence: grant.token }));
}

/** Throws storage_unavailable ("lost its lease") unless the lease is still this holder's. */
export async function assertStillHeld(grant: Lease): Promise<void> {
  if (await grant.confirm()) return;
  throw new AppError("storage_unavailable", `this gateway lost its lease on the session (fence ${grant.token}) to another gateway; nothing was written`, { retryable: true });
}

/** What a run hears when its gateway lost the session's lease while it ran. */
export function leaseLostError(): AppError {
  return new AppError("run_interrupted", "this gateway lost the session to another one (it stalled, or could not reach Redis, for longer than its lease lasts); the run was stopped", { retryable: true });
}
