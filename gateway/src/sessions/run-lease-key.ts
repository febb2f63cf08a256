import { AppError } from "@workforce/protocol";
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
