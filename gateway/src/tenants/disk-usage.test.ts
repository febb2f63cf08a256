import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AppError, type EffectiveTenantPolicy } from "@workforce/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createConsoleLogger } from "../logger";
import { TENANT_A, TENANT_B } from "../test-support/test-gateway";
import { createDiskUsage, type DiskUsage } from "./disk-usage";

/**
 * The tracker on its own, with a clock the test moves: one walk, then deltas; files written by
 * someone else (another gateway on the data dir) are found by the background walk once the figure
 * is old, and before a decision near the quota; another tenant's figure is its own.
 */
let dataDir: string;
let time: number;
let quota: number | null;
let disk: DiskUsage;
const REFRESH_MS = 300_000;
const NEAR_QUOTA_MS = 10_000;

const policy = (): EffectiveTenantPolicy => ({ version: 1, suspended: false, suspendedReason: null, source: "pushed", limits: { maxConcurrentRuns: 4, maxQueuedRuns: 200, monthlyTokens: null, diskBytes: quota } });
const put = async (tenant: string, file: string, bytes: number) => {
  await mkdir(path.join(dataDir, tenant, "workspace", "ada"), { recursive: true });
  await writeFile(path.join(dataDir, tenant, "workspace", "ada", file), "x".repeat(bytes));
};

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "disk-usage-"));
  time = 1_000_000;
  quota = 10_000;
  disk = createDiskUsage({
    dataDir,
    policies: { get: () => Promise.resolve(policy()) },
    logger: createConsoleLogger("[disk-usage-test]"),
    clock: () => time,
    refreshMs: REFRESH_MS,
    nearQuotaRefreshMs: NEAR_QUOTA_MS,
  });
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe("disk usage tracking", () => {
  it("walks once, then follows the deltas it is told without walking again", async () => {
    await put(TENANT_A, "a.md", 1_000);
    expect(await disk.status(TENANT_A)).toEqual({ usedBytes: 1_000, quotaBytes: 10_000 });
    await put(TENANT_A, "b.md", 500);
    disk.changed(TENANT_A, 500);
    // A file nobody reported: not seen while the figure is fresh (no walk per use).
    await put(TENANT_A, "elsewhere.md", 2_000);
    time += REFRESH_MS - 1;
    expect((await disk.status(TENANT_A)).usedBytes).toBe(1_500);
    expect(await disk.status(TENANT_B)).toEqual({ usedBytes: 0, quotaBytes: 10_000 });
  });

  it("finds what other gateways wrote: in the background once the figure is old, before deciding near the quota", async () => {
    await put(TENANT_A, "a.md", 1_000);
    await disk.status(TENANT_A);
    await put(TENANT_A, "elsewhere.md", 2_000);
    time += REFRESH_MS;
    // The stale figure answers at once; the walk it started brings the truth.
    expect((await disk.status(TENANT_A)).usedBytes).toBe(1_000);
    await expect.poll(async () => (await disk.status(TENANT_A)).usedBytes).toBe(3_000);

    // Near the quota (90%), a figure older than NEAR_QUOTA_MS is walked before a write is allowed.
    await put(TENANT_A, "big.md", 6_000);
    disk.changed(TENANT_A, 6_000);
    await put(TENANT_A, "elsewhere-2.md", 900);
    await expect(disk.assertRoom(TENANT_A, 900)).resolves.toBeUndefined();
    time += NEAR_QUOTA_MS;
    const refused = await disk.assertRoom(TENANT_A, 900).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "tenant_quota_exceeded", status: 507 });
    expect((refused as AppError).message).toContain("(9900 bytes) of its 9.8 KB (10000 bytes) disk quota; writing 900 bytes more would exceed it");
    await expect(disk.admitRun(TENANT_A)).resolves.toBeUndefined();
    disk.changed(TENANT_A, 100);
    await expect(disk.admitRun(TENANT_A)).rejects.toMatchObject({ code: "tenant_quota_exceeded" });
    // Another tenant is not affected.
    await expect(disk.admitRun(TENANT_B)).resolves.toBeUndefined();
  });

  it("has no limit without a quota, and walks again after being told to forget (erasure)", async () => {
    quota = null;
    await put(TENANT_A, "a.md", 50_000);
    await expect(disk.assertRoom(TENANT_A, 1_000_000)).resolves.toBeUndefined();
    expect(await disk.status(TENANT_A)).toEqual({ usedBytes: 50_000, quotaBytes: null });
    await rm(path.join(dataDir, TENANT_A), { recursive: true });
    disk.forget(TENANT_A);
    expect((await disk.status(TENANT_A)).usedBytes).toBe(0);
  });
});
