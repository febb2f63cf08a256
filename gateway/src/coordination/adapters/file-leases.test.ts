import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../../logger";
import { createFileLocks, lockHostId, type FileLocks } from "../../fs/file-lock";
import type { Leases } from "../leases";
import { createFileLeases } from "./file-leases";

let dir: string;
const opened: FileLocks[] = [];

/** One process's leases (each FileLocks has its own owner file, as a second process would). */
function leases(): Leases {
  const locks = createFileLocks({ logger: silentLogger, ownerDir: path.join(dir, ".owners") });
  opened.push(locks);
  return createFileLeases({ locks, lockPath: (key) => path.join(dir, `${key.replaceAll(/[:/]/g, "_")}.lock`) });
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "gateway-file-leases-"));
});
afterEach(async () => {
  for (const locks of opened.splice(0)) locks.close();
  await rm(dir, { recursive: true, force: true });
});

describe("leases as lock files", () => {
  it("excludes other processes and this one until released, with token 0 and a readable holder", async () => {
    const first = leases();
    const second = leases();
    const lease = await first.acquire("run:t1/ada/s1");
    expect(lease).toMatchObject({ token: 0, tookOver: false });
    expect(await first.tryAcquire("run:t1/ada/s1")).toBeUndefined();
    expect(await second.tryAcquire("run:t1/ada/s1")).toBeUndefined();
    expect(await second.holder("run:t1/ada/s1")).toBe(`${lockHostId()}:${process.pid}`);
    expect(await lease.confirm()).toBe(true);

    const waiting = second.acquire("run:t1/ada/s1", { timeoutMs: 10_000 });
    await lease.release();
    await lease.release();
    expect(await lease.confirm()).toBe(false);
    const next = await waiting;
    expect(next.tookOver).toBe(false);
    await next.release();
    expect(await first.holder("run:t1/ada/s1")).toBeUndefined();
    expect(await readdir(dir)).toEqual([".owners"]);
  });

  it("times out waiting as storage_unavailable, and takes over a dead process's lock", async () => {
    const first = leases();
    const held = await first.acquire("config:t1");
    await expect(leases().acquire("config:t1", { timeoutMs: 50 })).rejects.toMatchObject({ code: "storage_unavailable" });
    await held.release();

    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    await writeFile(path.join(dir, "config_t1.lock"), JSON.stringify({ host: lockHostId(), pid: Number(dead.stdout), token: "gone" }));
    const taken = await first.acquire("config:t1");
    expect(taken.tookOver).toBe(true);
    expect(taken.lost.aborted).toBe(false);
    await taken.release();
  });
});
