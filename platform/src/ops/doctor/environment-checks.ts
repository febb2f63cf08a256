import { statfs } from "node:fs/promises";
import path from "node:path";
import { inspectDataDir } from "@workforce/protocol/data-dir-check";
import { fail, pass, warn, type CheckResult } from "./doctor-check";

const MIN_NODE_MAJOR = 20;

export function checkNodeVersion(version: string = process.versions.node): CheckResult {
  const major = Number(version.split(".")[0]);
  if (major >= MIN_NODE_MAJOR) return pass("node version", `Node ${version}`);
  return fail("node version", `Node ${version} is older than ${MIN_NODE_MAJOR}`, `install Node ${MIN_NODE_MAJOR} or later (e.g. nvm install 20), then npm ci`);
}

/**
 * The guide's first two Common Issues: ENOENT on /data and "Read-only file system" (macOS).
 * Looked at without creating anything: the gateway creates a missing directory itself.
 */
export async function checkTenantDataDir(dir: string, gatewayRunning = false): Promise<CheckResult> {
  const name = "tenant data dir";
  const inspection = await inspectDataDir(dir);
  if (inspection.problem) {
    const { cause, fix, kind } = inspection.problem;
    return fail(name, `TENANT_DATA_DIR=${dir}: ${cause} [${kind}]`, fix);
  }
  if (!inspection.exists && gatewayRunning) {
    return fail(name, `${dir} does not exist although a gateway is running: its volume was removed or unmounted`, "remount or restore the volume at that path, then restart the gateway (it refuses to recreate it empty)");
  }
  return pass(name, inspection.exists ? `${dir} is a writable directory` : `${dir} does not exist yet; the gateway creates it at start (its parent is writable)`);
}

/** Free space and inodes where the data lives: a full disk fails writes mid-run. */
export async function checkDiskHeadroom(label: string, dir: string): Promise<CheckResult> {
  const name = `disk space (${label})`;
  let probe = dir;
  for (;;) {
    try {
      const stats = await statfs(probe);
      const freeBytes = stats.bavail * stats.bsize;
      const totalBytes = stats.blocks * stats.bsize;
      const freeShare = totalBytes > 0 ? freeBytes / totalBytes : 1;
      // Some file systems (btrfs, overlay on some hosts) report no inode counts at all.
      const inodeShare = stats.files > 0 ? stats.ffree / stats.files : 1;
      const summary = `${formatBytes(freeBytes)} free (${Math.round(freeShare * 100)}%), ${stats.files > 0 ? `${Math.round(inodeShare * 100)}% of inodes free` : "inodes not counted"} at ${probe}`;
      const fix = `free space on the disk holding ${probe}, or move ${label} to a larger disk`;
      if (freeBytes < 100 * 1024 ** 2 || freeShare < 0.02 || inodeShare < 0.02) return fail(name, `almost full: ${summary}`, fix);
      if (freeBytes < 1024 ** 3 || freeShare < 0.1 || inodeShare < 0.1) return warn(name, `getting full: ${summary}`, fix);
      return pass(name, summary);
    } catch {
      const parent = path.dirname(probe);
      if (parent === probe) return warn(name, `cannot measure the disk of ${dir}`, `check ${label} names a real directory`);
      probe = parent;
    }
  }
}

function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
