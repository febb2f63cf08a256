import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { link, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "../logger";
import { breakFilePath, createFileLocks, lockHostId, type FileLockOptions, type FileLocks } from "./file-lock";


let dir: string;
let warnings: string[];
const logger: Logger = { info: () => undefined, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) };
const opened: FileLocks[] = [];

function locks(options: Partial<Omit<FileLockOptions, "logger" | "ownerDir">> = {}): FileLocks {
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

  it("takes a lock whose file is its own link, as a retried NFS LINK that had succeeded leaves it", async () => {
    const mine = locks({ timeoutMs: 300 });
    await mine.run(path.join(dir, "warm-up.lock"), async () => undefined); // writes its owner file
    const [ownerFile] = await readdir(path.join(dir, ".owners"));
    const lockPath = path.join(dir, "registry.lock");
    await link(path.join(dir, ".owners", ownerFile!), lockPath);
    expect(await mine.run(lockPath, async () => "got it")).toBe("got it");
    await expect(stat(lockPath)).rejects.toMatchObject({ code: "ENOENT" });
    // Another owner's link is still someone else's lock.
    await link(path.join(dir, ".owners", ownerFile!), lockPath);
    await expect(locks({ timeoutMs: 100 }).run(lockPath, async () => "never")).rejects.toMatchObject({ code: "storage_unavailable" });
  });

  it("lets at most one of many breakers racing for one stale lock hold it, in every interleaving tried", async () => {
    const dead = deadPid();
    for (let seed = 1; seed <= 30; seed += 1) {
      const random = seededRandom(seed);
      const pause = () => ticks(Math.floor(random() * 4));
      const lockPath = path.join(dir, `seed-${seed}.lock`);
      await writeFile(lockPath, JSON.stringify({ host: lockHostId(), pid: dead, token: "crashed" }));
      // Half the time a breaker died mid-take-over too, leaving its break file behind.
      const breakerDied = random() < 0.5;
      if (breakerDied) await writeFile(breakFilePath(lockPath, (await stat(lockPath, { bigint: true })).ino, 0), JSON.stringify({ host: lockHostId(), pid: dead, token: "breaker" }));
      const breakers = Array.from({ length: 5 }, () => locks({ takeOverPause: pause }));
      let holding = 0;
      let most = 0;
      let tookOver = 0;
      let done = 0;
      const attempts = breakers.flatMap((breaker) =>
        [1, 2].map(async () => {
          await ticks(Math.floor(random() * 3));
          await breaker.run(lockPath, async (held) => {
            holding += 1;
            most = Math.max(most, holding);
            if (held.tookOver) tookOver += 1;
            await pause();
            holding -= 1;
            done += 1;
          });
        }),
      );
      await Promise.all(attempts);
      expect({ seed, breakerDied, most, tookOver, done }).toEqual({ seed, breakerDied, most: 1, tookOver: 1, done: 10 });
      expect((await readdir(dir)).filter((name) => name.startsWith(`seed-${seed}.`))).toEqual([]);
    }
  });

  it("keeps one holder at a time among real processes racing for a lock, some of them dying while they hold it", async () => {
    const lockPath = path.join(dir, "raced.lock");
    await writeFile(lockPath, JSON.stringify({ host: lockHostId(), pid: deadPid(), token: "crashed" }));
    const dying = [2, -1, 5, -1];
    const results = await Promise.all(dying.map((round) => runRaceWorker(lockPath, 12, round)));
    expect(results.map((result) => result.code), results.map((result) => result.output).join("\n")).toEqual([0, 0, 0, 0]);
    // The last crash's lock (or nothing) may remain; a newcomer gets the lock at once either way.
    expect(await locks({ timeoutMs: 1_000 }).run(lockPath, async () => "free")).toBe("free");
  });

  it("judges a holder on this host by its process alone, however old its lock file", async () => {
    const child = spawn(process.execPath, ["-e", "setInterval(() => undefined, 1000)"], { stdio: "ignore" });
    const exited = once(child, "exit");
    try {
      const lockPath = path.join(dir, "run.lock");
      await writeFile(lockPath, JSON.stringify({ host: lockHostId(), pid: child.pid, token: "busy" }));
      const hourAgo = new Date(Date.now() - 3_600_000);
      await utimes(lockPath, hourAgo, hourAgo);
      await expect(locks({ staleMs: 1_000, timeoutMs: 200 }).run(lockPath, async () => "never")).rejects.toMatchObject({ code: "storage_unavailable" });
      expect(locks({ staleMs: 1_000 }).inspect(lockPath)).toBe("live");
      child.kill("SIGKILL");
      await exited;
      expect(await locks({ staleMs: 1_000 }).run(lockPath, async () => "after its holder died")).toBe("after its holder died");
    } finally {
      child.kill("SIGKILL");
    }
    // A lock of an earlier process that had this process's pid (a pid reused) is stale at once.
    const reused = path.join(dir, "reused.lock");
    await writeFile(reused, JSON.stringify({ host: lockHostId(), pid: process.pid, token: "earlier", since: "1" }));
    expect(await locks({ timeoutMs: 1_000 }).run(reused, async () => "taken")).toBe("taken");
    expect(warnings.filter((warning) => warning.includes("REDIS_URL"))).toEqual([]);
  });

  it("warns once that gateways on several machines need REDIS_URL when a lock is held by another host", async () => {
    const lockPath = path.join(dir, "config.json.lock");
    await writeFile(lockPath, JSON.stringify({ host: "other-machine", pid: 7, token: "remote" }));
    const waiting = locks({ staleMs: 60_000, timeoutMs: 100 });
    await expect(waiting.run(lockPath, async () => "never")).rejects.toMatchObject({ code: "storage_unavailable" });
    await expect(waiting.run(lockPath, async () => "never")).rejects.toMatchObject({ code: "storage_unavailable" });
    const told = warnings.filter((warning) => warning.includes("REDIS_URL"));
    expect(told).toHaveLength(1);
    expect(told[0]).toContain("other-machine");
  });
});

const RACE_WORKER = fileURLToPath(new URL("../test-support/lock-race-worker.ts", import.meta.url));

function runRaceWorker(lockPath: string, rounds: number, dieInRound: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", RACE_WORKER, lockPath, path.join(dir, ".owners"), String(rounds), String(dieInRound)], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

/** A small deterministic generator (mulberry32), so a failing interleaving can be replayed by its seed. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Lets `count` turns of the event loop pass, so other lock owners' steps run in between. */
async function ticks(count: number): Promise<void> {
  for (let turn = 0; turn < count; turn += 1) await new Promise((resolve) => setImmediate(resolve));
}
