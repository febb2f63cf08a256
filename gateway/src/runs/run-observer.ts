import type { RunEvent } from "@workforce/protocol";
import type { RunRecord } from "./run-manager";

/** What an observer may read of a run: who it is for, where it came from and its model. */
export type ObservedRun = Pick<RunRecord, "runId" | "tenantId" | "agent" | "origin" | "model">;

/**
 * Listens to runs without being part of them (metrics today). The run manager hands it every
 * event of every run once stamped, in order: `run-start` when the run gets its slot, deltas and
 * tool calls, then exactly one `run-end` with status, usage and error code. An observer must not
 * throw or block: it runs on the run's own path.
 */
export interface RunObserver {
  runEvent(run: ObservedRun, event: RunEvent): void;
}
