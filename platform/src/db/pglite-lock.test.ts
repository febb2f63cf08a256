import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatabaseInUseError, LOCK_FILE, lockPgliteDir } from "./pglite-lock";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "workforce-lock-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lockFile = () => path.join(dir, LOCK_FILE);
const writeLock = (contents: { pid: number; hostname?: string; process?: string }) =>
  writeFile(lockFile(), JSON.stringify({ hostname: os.hostname(), process: "earlier", since: "2025-01-01T00:00:00.000Z", ...contents }));

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid!;
}

describe("the embedded database's lock", () => {
  it("lets one opener at a time have the directory, and the next one after it is released", async () => {
    const lock = await lockPgliteDir(dir);
    expect(JSON.parse(await readFile(lockFile(), "utf8"))).toMatchObject({ pid: process.pid, hostname: os.hostname() });
    const error = await lockPgliteDir(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseInUseError);
    expect((error as Error).message).toContain(`the embedded database ${dir} is in use by another process (pid ${process.pid}`);
    expect((error as Error).message).toContain("Stop Workforce first, or use a Postgres server (DATABASE_URL)");
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    await (await lockPgliteDir(dir)).release();
  });

  it("refuses while another running process holds it", async () => {
    await writeLock({ pid: process.ppid });
    await expect(lockPgliteDir(dir)).rejects.toThrow(`pid ${process.ppid} on ${os.hostname()}`);
  });

  it("assumes a lock from another host is held (its pid means nothing here)", async () => {
    await writeLock({ pid: await deadPid(), hostname: "another-host" });
    await expect(lockPgliteDir(dir)).rejects.toThrow(/on another-host.*If no such process is running, delete/);
  });

  it("takes over a lock whose process is gone, including one left by an earlier process with this pid (a container's pid 1)", async () => {
    await writeLock({ pid: await deadPid() });
    const first = await lockPgliteDir(dir);
    expect(JSON.parse(await readFile(lockFile(), "utf8")).pid).toBe(process.pid);
    await first.release();

    await writeLock({ pid: process.pid, process: "a previous incarnation" });
    await (await lockPgliteDir(dir)).release();

    await writeFile(lockFile(), "garbage");
    await (await lockPgliteDir(dir)).release();
    expect(await readdir(dir)).toEqual([]);
  });

  it("does not remove a lock someone else took after it was released", async () => {
    const lock = await lockPgliteDir(dir);
    await lock.release();
    await writeLock({ pid: process.ppid });
    await lock.release();
    expect(await readdir(dir)).toEqual([LOCK_FILE]);
  });
});
