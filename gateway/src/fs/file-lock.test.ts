import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "../logger";
import { createFileLocks, lockHostId, type FileLocks } from "./file-lock";

let dir: string;
let warnings: string[];
const logger: Logger = { info: () => undefined, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) };
const opened: FileLocks[] = [];

function locks(options: { staleMs?: number; timeoutMs?: number; owner?: { host: string; pid: number } } = {}): FileLocks {
  const created = createFileLocks({ logger, ownerDir: path.join(dir, ".owners"), ...options });
  opened.push(created);
  return created;
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(child.stdout);
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "gateway-file-lock-"));
  warnings = [];
});
afterEach(async () => {
  for (const created of opened.splice(0)) created.close();
  await rm(dir, { recursive: true, force: true });
});

describe("file locks", () => {
  it("makes a read-modify-write exclusive between two lock owners (two processes' worth) on one file", async () => {
    const counter = path.join(dir, "counter");
    await writeFile(counter, "0");
    const lockPath = path.join(dir, "counter.lock");
    const increment = async (owner: FileLocks) =>
      owner.run(lockPath, async () => {
        const value = Number(await readFile(counter, "utf8"));
        await new Promise((resolve) => setImmediate(resolve));
        await writeFile(counter, String(value + 1));
      });
    const first = locks();
    const second = locks();
    await Promise.all(Array.from({ length: 40 }, (_, index) => increment(index % 2 === 0 ? first : second)));
    expect(await readFile(counter, "utf8")).toBe("40");
    // Nothing is left behind but the owners' files.
    expect((await readdir(dir)).sort()).toEqual([".owners", "counter"]);
  });

  it("takes over a lock left by a dead process on this host at once", async () => {
    const lockPath = path.join(dir, "registry.lock");
    await writeFile(lockPath, JSON.stringify({ host: lockHostId(), pid: deadPid(), token: "gone" }));
    const started = Date.now();
    expect(await locks().run(lockPath, async () => "got it")).toBe("got it");
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(warnings.join()).toContain("took over a stale lock");
  });

  it("waits for a live holder on another machine, and takes its lock over only once it has gone quiet", async () => {
    const lockPath = path.join(dir, "registry.lock");
    await writeFile(lockPath, JSON.stringify({ host: "other-machine", pid: 1, token: "remote" }));
    const timedOut = locks({ staleMs: 5_000, timeoutMs: 150 }).run(lockPath, async () => "never");
    await expect(timedOut).rejects.toMatchObject({ code: "storage_unavailable" });
    // Where the lock is and who holds it goes to the log, not into the client's error.
    const message = await timedOut.catch((error: unknown) => (error as Error).message);
    expect(message).not.toContain(dir);
    expect(message).not.toContain("other-machine");
    expect(warnings.join()).toContain(lockPath);
    const quiet = new Date(Date.now() - 10_000);
    await utimes(lockPath, quiet, quiet);
    expect(await locks({ staleMs: 5_000 }).run(lockPath, async () => "taken over")).toBe("taken over");
  });

  it("reports a lock left by a crash as stale, and a held one as live", async () => {
    const lockPath = path.join(dir, "session.jsonl.lock");
    const holder = locks();
    const observer = locks();
    await holder.run(lockPath, async () => {
      expect(observer.inspect(lockPath)).toBe("live");
      expect(observer.removeStale(lockPath)).toBe(false);
    });
    expect(observer.inspect(lockPath)).toBe("absent");
    await writeFile(lockPath, JSON.stringify({ host: lockHostId(), pid: deadPid(), token: "crashed" }));
    expect(observer.inspect(lockPath)).toBe("stale");
    expect(observer.removeStale(lockPath)).toBe(true);
    expect(observer.inspect(lockPath)).toBe("absent");
  });
});
