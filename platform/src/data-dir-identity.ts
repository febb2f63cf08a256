import { readFile } from "node:fs/promises";
import type { GatewayHealth } from "@workforce/protocol";
import { dataDirMarkerPath } from "@workforce/protocol/tenant-path";
import { z } from "zod";

const Marker = z.object({ instanceId: z.string().min(1) });

export type MarkerReading = { ok: true; path: string; instanceId: string } | { ok: false; path: string; problem: string };

/** Reads the instance marker the gateway keeps at the root of TENANT_DATA_DIR. Never writes it. */
export async function readDataDirMarker(tenantDataDir: string): Promise<MarkerReading> {
  const path = dataDirMarkerPath(tenantDataDir);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { ok: false, path, problem: code === "ENOENT" ? "the marker file does not exist" : `the marker file cannot be read (${code ?? "error"})` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, path, problem: "the marker file is not valid JSON" };
  }
  const parsed = Marker.safeParse(json);
  if (!parsed.success) return { ok: false, path, problem: "the marker file has no instanceId" };
  return { ok: true, path, instanceId: parsed.data.instanceId };
}

/**
 * Compares what the gateway reports with the marker this process sees. A mismatch means the two
 * services use different TENANT_DATA_DIRs, the guide's "agents have no identity" failure.
 * Returns a message naming both paths and the fix, or undefined when they agree.
 */
export function dataDirProblem(gateway: GatewayHealth, marker: MarkerReading, tenantDataDir: string): string | undefined {
  if (marker.ok && marker.instanceId === gateway.dataDir.instanceId) return undefined;
  const why = marker.ok
    ? `the marker at ${marker.path} has instance id ${marker.instanceId}, but the gateway reports ${gateway.dataDir.instanceId}`
    : `${marker.problem} (${marker.path})`;
  return [
    `TENANT_DATA_DIR mismatch: the gateway uses ${gateway.dataDir.path}, the platform uses ${tenantDataDir}; ${why}.`,
    `Fix: start both services with the same absolute TENANT_DATA_DIR (e.g. TENANT_DATA_DIR=${gateway.dataDir.path}), on the same (shared) filesystem.`,
  ].join("\n");
}
