import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { AppError } from "@workforce/protocol";
import { createDataDir, DataDirError, explainDataDirError, type DataDirProblem } from "@workforce/protocol/data-dir-check";
import { dataDirMarkerPath } from "@workforce/protocol/tenant-path";
import { z } from "zod";
import { ConfigError } from "./config";
import { errnoCode } from "./fs/errno";
import { writeFileAtomic } from "./fs/atomic-write";
import { parseJson } from "./fs/jsonl-file";

/** `{TENANT_DATA_DIR}/.workforce-data-dir.json`: proves gateway and platform look at the same directory. */
export const DataDirMarker = z.object({ instanceId: z.string().min(1), createdAt: z.string() });
export type DataDirMarker = z.infer<typeof DataDirMarker>;

function describe(dir: string, problem: DataDirProblem): string {
  return `TENANT_DATA_DIR "${dir}" cannot be used: ${problem.cause}. Fix: ${problem.fix}`;
}

export interface PreparedDataDir {
  path: string;
  instanceId: string;
}

/**
 * Creates TENANT_DATA_DIR when missing, proves it is writable, and reads or creates the data-dir
 * marker. Any failure is a ConfigError naming the path, the true cause and its fix.
 */
export async function prepareDataDir(dir: string, now: () => Date = () => new Date()): Promise<PreparedDataDir> {
  try {
    await createDataDir(dir);
  } catch (error) {
    if (error instanceof DataDirError) throw new ConfigError([describe(dir, error.problem)]);
    throw error;
  }
  const markerPath = dataDirMarkerPath(dir);
  const existing = await readMarker(markerPath);
  if (existing) return { path: dir, instanceId: existing.instanceId };
  const marker: DataDirMarker = { instanceId: randomUUID(), createdAt: now().toISOString() };
  try {
    await writeFileAtomic(markerPath, JSON.stringify(marker, null, 2) + "\n", 0o644);
  } catch (error) {
    throw new ConfigError([describe(dir, explainDataDirError(dir, markerPath, error))]);
  }
  return { path: dir, instanceId: marker.instanceId };
}

/**
 * A check that TENANT_DATA_DIR is still the directory this gateway started on: its marker is
 * there with the same instance id. Without it, a removed or unmounted volume would be recreated
 * empty by the next write (agents "not found", new ones created beside the lost data). Throws
 * AppError storage_unavailable (503); the message names no path, as strangers may read health.
 * Synchronous and one small read: it runs on health checks and when a tenant's root is (re)resolved.
 */
export function createDataDirGuard(prepared: PreparedDataDir): () => void {
  const markerPath = dataDirMarkerPath(prepared.path);
  return () => {
    let text: string;
    try {
      text = readFileSync(markerPath, "utf8");
    } catch (error) {
      throw new AppError(
        "storage_unavailable",
        "TENANT_DATA_DIR is gone: its .workforce-data-dir.json marker cannot be read (the volume was removed or unmounted). " +
          "The gateway will not create an empty one in its place: restore or remount it, then restart the gateway",
        { cause: error },
      );
    }
    const marker = DataDirMarker.safeParse(parseJson(text));
    if (!marker.success || marker.data.instanceId !== prepared.instanceId) {
      throw new AppError(
        "storage_unavailable",
        "TENANT_DATA_DIR was replaced: its marker names another instance than the one this gateway started on. Restart the gateway and the platform on the right directory",
      );
    }
  };
}

/** The marker at `markerPath`, undefined when there is none; a ConfigError when it cannot be read or is damaged. */
export async function readMarker(markerPath: string): Promise<DataDirMarker | undefined> {
  let text: string;
  try {
    text = await readFile(markerPath, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw new ConfigError([`cannot read the data-dir marker "${markerPath}": ${String(error)}`]);
  }
  const parsed = DataDirMarker.safeParse(parseJson(text));
  if (!parsed.success) {
    throw new ConfigError([
      `the data-dir marker "${markerPath}" is damaged. Fix: delete it and restart the gateway, then restart the platform so both see the new instance id.`,
    ]);
  }
  return parsed.data;
}
