import type { RunEvent, RunInfo } from "@workforce/protocol";

/** A run's event stream as any reader sees it: replay from a seq, then follow live until run-end. */
export interface RunEventSource {
  follow(after: number, signal?: AbortSignal): AsyncGenerator<RunEvent>;
}

/** A run started by another gateway, as found through the relay. */
export interface RemoteRun extends RunEventSource {
  info: RunInfo;
}

/**
 * Shares runs between gateways that serve one TENANT_DATA_DIR: each gateway publishes the runs it
 * executes (status and every event), so any other can answer status and replay requests for them,
 * and forward an abort to the gateway that owns the run. Optional: without one, a run is only
 * visible on the gateway that started it. Implementations live in `adapters/`.
 */
export interface RunEventRelay {
  /** Records a run's current status (on submit, start and end). Never throws; failures are logged. */
  publishInfo(tenantId: string, info: RunInfo): void;
  /** Appends one event of a run executing here, in order. Never throws; failures are logged. */
  publishEvent(tenantId: string, event: RunEvent): void;
  /** A run another gateway published; undefined when unknown, expired or another tenant's. */
  find(tenantId: string, runId: string): Promise<RemoteRun | undefined>;
  /** Asks whichever gateway executes the run to abort it. */
  requestAbort(tenantId: string, runId: string): Promise<void>;
  /** Called when another gateway asks for an abort of a run (of any gateway: check it is yours). */
  onAbortRequest(listener: (tenantId: string, runId: string) => void): void;
  close(): Promise<void>;
}
