import { dataDirMarkerPath, isWritableDir } from "@workforce/protocol/tenant-path";
import { readMarker, type PreparedDataDir } from "./data-dir";
import type { RunManager } from "./runs/run-manager";

/**
 * What `GET /readyz` reports: whether this gateway should be sent new work. Each check is a
 * boolean only, since the route is open to anyone (a kubelet has no token): paths and instance
 * ids stay on `GET /` for the token holder.
 */
export interface Readiness {
  ready: boolean;
  checks: {
    /** TENANT_DATA_DIR is writable and still the directory this gateway started on (same marker). */
    dataDir: boolean;
    /** close() has not begun (SIGTERM): runs are being aborted and recorded. */
    notShuttingDown: boolean;
    /** The gateway-wide queue has room: at its bound every new run is refused with too_many_runs. */
    queueHasRoom: boolean;
  };
}

export interface ReadinessDeps {
  dataDir: PreparedDataDir;
  runs: Pick<RunManager, "load">;
  /** Runs waiting across the gateway before new ones are refused (RunManagerLimits.maxQueuedTotal). */
  maxQueuedTotal: number;
}

/**
 * Same directory, not only some directory: a volume lost or swapped under a running gateway
 * leaves an empty or foreign TENANT_DATA_DIR, into which nothing must be written.
 */
async function dataDirIntact(dataDir: PreparedDataDir): Promise<boolean> {
  try {
    const marker = await readMarker(dataDirMarkerPath(dataDir.path));
    return marker?.instanceId === dataDir.instanceId && (await isWritableDir(dataDir.path));
  } catch {
    return false;
  }
}

/** Builds the readiness check; it reads the marker file, so it is for `/readyz`, never `/livez`. */
export function createReadiness(deps: ReadinessDeps): () => Promise<Readiness> {
  return async () => {
    const load = deps.runs.load();
    const checks = {
      dataDir: await dataDirIntact(deps.dataDir),
      notShuttingDown: !load.closing,
      queueHasRoom: load.waiting < deps.maxQueuedTotal,
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  };
}
