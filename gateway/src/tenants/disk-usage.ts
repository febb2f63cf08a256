import path from "node:path";
import { AppError, type EffectiveTenantPolicy, type TenantDiskUsage } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { isLockFile, treeBytes, type DiskGuard } from "../fs/disk-bytes";
import { errorText, type Logger } from "../logger";
import type { TenantPolicies } from "./tenant-policy";

export interface DiskUsageOptions {
  dataDir: string;
  policies: Pick<TenantPolicies, "get">;
  logger: Logger;
  /** Milliseconds since some epoch; the age of a figure is measured with it. */
  clock?: () => number;
  /** A figure older than this is walked again in the background, so writes of other gateways on the data dir are counted. */
  refreshMs?: number;
  /** Once a tenant is within `nearQuotaRatio` of its quota, a figure older than this is walked again before deciding. */
  nearQuotaRefreshMs?: number;
  nearQuotaRatio?: number;
  /** Tenants whose figure is kept (least recently used ones are walked again on their next use). */
  maxTenants?: number;
}

export interface DiskUsage extends DiskGuard {
  /** The tenant's bytes and quota (null: none), as `GET /v1/tenant/disk` answers. */
  status(tenantId: string): Promise<TenantDiskUsage>;
  /**
   * Refuses a new run of a tenant at or over its quota with tenant_quota_exceeded (the run
   * manager's admission), under `policy` when the caller has already read it.
   */
  admitRun(tenantId: string, policy?: EffectiveTenantPolicy): Promise<void>;
  /** Forgets the figure (the tenant is being erased); the next use walks the directory again. */
  forget(tenantId: string): void;
}

interface Figure {
  bytes: number;
  known: boolean;
  measuredAt: number;
  /** The walk in progress, and the changes made while it runs (it may or may not have seen them). */
  walk?: Promise<number>;
  sinceWalkStarted: number;
}

export const DEFAULT_DISK_REFRESH_MS = 5 * 60_000;
export const DEFAULT_NEAR_QUOTA_REFRESH_MS = 10_000;

/**
 * Bytes per tenant under `TENANT_DATA_DIR/{tenant}`, tracked incrementally: the directory is walked
 * once when this process first needs the tenant's figure, then every writer of the gateway reports
 * its change (`changed`). Other gateways sharing the data dir write too, so a figure is walked again
 * in the background once older than `refreshMs`, and before any decision once the tenant is near
 * its quota and the figure is older than `nearQuotaRefreshMs`: all gateways converge on the truth.
 */
export function createDiskUsage(options: DiskUsageOptions): DiskUsage {
  const clock = options.clock ?? Date.now;
  const refreshMs = options.refreshMs ?? DEFAULT_DISK_REFRESH_MS;
  const nearQuotaRefreshMs = options.nearQuotaRefreshMs ?? DEFAULT_NEAR_QUOTA_REFRESH_MS;
  const nearQuotaRatio = options.nearQuotaRatio ?? 0.9;
  const maxTenants = options.maxTenants ?? 10_000;
  const figures = new Map<string, Figure>();

  function walk(tenantId: string, figure: Figure): Promise<number> {
    if (figure.walk) return figure.walk;
    figure.sinceWalkStarted = 0;
    const paths = tenantPaths(options.dataDir, tenantId);
    // Outside the workspace only: there the names are the model's, and a file named *.lock counts like any other.
    const walking = treeBytes(paths.root, { ignore: (file) => isLockFile(file) && !file.startsWith(paths.workspaceDir + path.sep) }).then(
      (bytes) => {
        // A change during the walk may already be in `bytes`; counting it again errs on the safe side until the next walk.
        figure.bytes = Math.max(0, bytes + figure.sinceWalkStarted);
        figure.known = true;
        figure.measuredAt = clock();
        figure.walk = undefined;
        return figure.bytes;
      },
      (error: unknown) => {
        figure.walk = undefined;
        throw error;
      },
    );
    figure.walk = walking;
    return walking;
  }

  function figureOf(tenantId: string): Figure {
    let figure = figures.get(tenantId);
    if (figure) {
      figures.delete(tenantId);
    } else {
      figure = { bytes: 0, known: false, measuredAt: 0, sinceWalkStarted: 0 };
    }
    figures.set(tenantId, figure);
    for (const oldest of figures.keys()) {
      if (figures.size <= maxTenants) break;
      figures.delete(oldest);
    }
    return figure;
  }

  async function used(tenantId: string, quota: number | null): Promise<number> {
    const figure = figureOf(tenantId);
    if (!figure.known) return walk(tenantId, figure);
    const age = clock() - figure.measuredAt;
    if (quota !== null && figure.bytes >= quota * nearQuotaRatio && age >= nearQuotaRefreshMs) return walk(tenantId, figure);
    if (age >= refreshMs) {
      walk(tenantId, figure).catch((error: unknown) => options.logger.warn(`could not measure the disk use of tenant ${tenantId}: ${errorText(error)}`));
    }
    return figure.bytes;
  }

  async function status(tenantId: string, policy?: EffectiveTenantPolicy): Promise<TenantDiskUsage> {
    const quotaBytes = (policy ?? (await options.policies.get(tenantId))).limits.diskBytes;
    return { usedBytes: await used(tenantId, quotaBytes), quotaBytes };
  }

  return {
    status,

    async admitRun(tenantId, policy) {
      const { usedBytes, quotaBytes } = await status(tenantId, policy);
      if (quotaBytes !== null && usedBytes >= quotaBytes) throw quotaExceeded(usedBytes, quotaBytes, "no new runs can start");
    },

    async assertRoom(tenantId, incomingBytes) {
      const { usedBytes, quotaBytes } = await status(tenantId);
      if (quotaBytes === null) return;
      if (usedBytes + Math.max(0, incomingBytes) > quotaBytes) {
        const why = usedBytes >= quotaBytes ? "nothing more can be written" : `writing ${formatBytes(incomingBytes)} more would exceed it`;
        throw quotaExceeded(usedBytes, quotaBytes, why);
      }
    },

    changed(tenantId, bytes) {
      const figure = figures.get(tenantId);
      if (!figure) return; // never measured here: the first walk will count it
      if (figure.walk) figure.sinceWalkStarted += bytes;
      if (figure.known) figure.bytes = Math.max(0, figure.bytes + bytes);
    },

    forget(tenantId) {
      figures.delete(tenantId);
    },
  };
}

function quotaExceeded(usedBytes: number, quotaBytes: number, consequence: string): AppError {
  return new AppError(
    "tenant_quota_exceeded",
    `this organisation's files use ${formatBytes(usedBytes)} (${usedBytes} bytes) of its ${formatBytes(quotaBytes)} (${quotaBytes} bytes) disk quota; ${consequence}. Delete files or sessions, or ask the operator for a larger quota`,
  );
}

/** 1536 → "1.5 KB"; binary units, as the quota is configured in MB (WORKFORCE_TENANT_DISK_MB). */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${bytes} bytes` : `${value.toFixed(1).replace(/\.0$/, "")} ${units[unit]}`;
}
