import { randomUUID } from "node:crypto";
import { mkdir, readFile, stat } from "node:fs/promises";
import { dataDirMarkerPath, isWritableDir } from "@workforce/protocol/tenant-path";
import { z } from "zod";
import { ConfigError } from "./config";
import { errnoCode } from "./fs/errno";
import { writeFileAtomic } from "./fs/atomic-write";
import { parseJson } from "./fs/jsonl-file";

/** `{TENANT_DATA_DIR}/.workforce-data-dir.json`: proves gateway and platform look at the same directory. */
export const DataDirMarker = z.object({ instanceId: z.string().min(1), createdAt: z.string() });
export type DataDirMarker = z.infer<typeof DataDirMarker>;

export interface PreparedDataDir {
  path: string;
  instanceId: string;
}

function fixFor(dir: string): string {
  return (
    `Fix on Linux: sudo mkdir -p ${dir} && sudo chown $USER ${dir}. ` +
    `Fix on macOS (the root file system is read-only): mkdir -p ~/data/tenants && export TENANT_DATA_DIR=$HOME/data/tenants. ` +
    `Use the same absolute TENANT_DATA_DIR for gateway and platform.`
  );
}

function describeFailure(dir: string, action: string, error: unknown): string {
  const code = errnoCode(error);
  const reason =
    code === "EROFS"
      ? "the file system is read-only (EROFS)"
      : code === "EACCES" || code === "EPERM"
        ? `permission denied (${code})`
        : code === "ENOTDIR" || code === "EEXIST"
          ? `a path component is a file, not a directory (${code})`
          : code === "ENOSPC"
            ? "the disk is full (ENOSPC)"
            : error instanceof Error
              ? error.message
              : String(error);
  return `TENANT_DATA_DIR "${dir}" ${action}: ${reason}. ${fixFor(dir)}`;
}

/**
 * Creates TENANT_DATA_DIR when missing, proves it is writable, and reads or creates the data-dir
 * marker. Any failure is a ConfigError naming the path and the fix for Linux and macOS.
 */
export async function prepareDataDir(dir: string, now: () => Date = () => new Date()): Promise<PreparedDataDir> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const info = await stat(dir);
    if (!info.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
  } catch (error) {
    throw new ConfigError([describeFailure(dir, "cannot be created", error)]);
  }
  if (!(await isWritableDir(dir))) {
    throw new ConfigError([describeFailure(dir, "is not writable", Object.assign(new Error("not writable"), { code: "EACCES" }))]);
  }
  const markerPath = dataDirMarkerPath(dir);
  const existing = await readMarker(markerPath);
  if (existing) return { path: dir, instanceId: existing.instanceId };
  const marker: DataDirMarker = { instanceId: randomUUID(), createdAt: now().toISOString() };
  try {
    await writeFileAtomic(markerPath, JSON.stringify(marker, null, 2) + "\n", 0o644);
  } catch (error) {
    throw new ConfigError([describeFailure(dir, "is not writable", error)]);
  }
  return { path: dir, instanceId: marker.instanceId };
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
