import { execFileSync } from "node:child_process";
import { chmodSync } from "node:fs";
import { appendFile, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { UsageRecord } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createFileLocks, type FileLocks } from "../fs/file-lock";
import { createConsoleLogger } from "../logger";
import { TENANT_A, TENANT_B } from "../test-support/test-gateway";
import { DEFAULT_TENANT_LIMITS } from "../tenants/tenant-policy";
import { createMetering } from "./metering";
import { createUsageJournal, type UsageJournal } from "./usage-journal";

const logger = createConsoleLogger("[usage-journal-test]");
let dir: string;
const opened: FileLocks[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "usage-journal-"));
  await mkdir(tenantPaths(dir, TENANT_A).root, { recursive: true });
});
afterEach(async () => {
  for (const locks of opened.splice(0)) locks.close();
  await rm(dir, { recursive: true, force: true });
});

/** A journal as one gateway process sees it (its own lock owner, as if on another machine when `host` differs). */
function journalOf(host = "host-a", pid = process.pid): UsageJournal {
  return createUsageJournal({ dataDir: dir, locks: journalOf.locks(host, pid), logger });
}
journalOf.locks = (host = "host-a", pid = process.pid): FileLocks => {
  const locks = createFileLocks({ logger, ownerDir: path.join(dir, ".workforce-locks"), owner: { host, pid } });
  opened.push(locks);
  return locks;
};

const now = new Date();
function record(runId: string, tokens = 100): UsageRecord {
  return {
    runId,
    agent: "ada",
    sessionKey: "s",
    source: "hook",
    model: "offline",
    status: "ok",
    inputTokens: tokens,
    outputTokens: tokens,
    queuedAt: now.toISOString(),
    endedAt: now.toISOString(),
  };
}

function meteringOf(journal: UsageJournal) {
  const limits = { ...DEFAULT_TENANT_LIMITS, monthlyTokens: 1_000_000 };
  const policies = { get: () => Promise.resolve({ version: 1, suspended: false, suspendedReason: null, limits, source: "pushed" as const }) };
  return createMetering({ journal, policies, now: () => now, logger, maxOutputTokens: 100 });
}

describe("the usage journal", () => {
  it("reads past a line torn by a crash, and the next append starts a fresh line", async () => {
    const journal = journalOf();
    await journal.append(TENANT_A, record("run-1"));
    const file = tenantPaths(dir, TENANT_A).usageJournal;
    await appendFile(file, JSON.stringify(record("run-torn")).slice(0, 40));

    const first = await journal.read(TENANT_A, 0);
    expect(first.entries.map((entry) => entry.record.runId)).toEqual(["run-1"]);
    // The torn fragment is not consumed: it might still be being written.
    expect(first.next).toBeLessThan(first.size);

    await journal.append(TENANT_A, record("run-2"));
    const second = await journal.read(TENANT_A, first.next);
    expect(second.entries.map((entry) => entry.record.runId)).toEqual(["run-2"]);
    expect(second.next).toBe(second.size);
    expect((await readFile(file, "utf8")).split("\n").filter(Boolean)).toHaveLength(3);
    expect(await meteringOf(journal).usage(TENANT_A)).toMatchObject({ usedTokens: 400 });
  });

  it("counts a run journaled twice once", async () => {
    const journal = journalOf();
    await journal.append(TENANT_A, record("run-1", 50));
    await journal.append(TENANT_A, record("run-1", 50));
    await journal.append(TENANT_A, record("run-2", 10));
    expect((await journal.read(TENANT_A, 0)).entries).toHaveLength(3);
    expect(await meteringOf(journal).usage(TENANT_A)).toMatchObject({ usedTokens: 120 });
  });

  it("keeps every line whole when two gateways append at once, and each sees the other's runs", async () => {
    const a = journalOf("host-a");
    const b = journalOf("host-b");
    const meteringB = meteringOf(b);
    expect(await meteringB.usage(TENANT_A)).toMatchObject({ usedTokens: 0 });
    await Promise.all(
      Array.from({ length: 60 }, (_, index) => (index % 2 === 0 ? a : b).append(TENANT_A, record(`run-${index}`, 1))),
    );
    const page = await a.read(TENANT_A, 0);
    expect(new Set(page.entries.map((entry) => entry.record.runId)).size).toBe(60);
    expect(page.next).toBe(page.size);
    const lines = (await readFile(tenantPaths(dir, TENANT_A).usageJournal, "utf8")).split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(60);
    // B reads only what was appended since its last look, and counts A's runs too.
    expect(await meteringB.usage(TENANT_A)).toMatchObject({ usedTokens: 120 });
  });

  it("pages by count and starts over when the journal was replaced", async () => {
    const journal = journalOf();
    for (let index = 0; index < 5; index += 1) await journal.append(TENANT_A, record(`run-${index}`));
    const page = await journal.read(TENANT_A, 0, 2);
    expect(page.entries.map((entry) => entry.record.runId)).toEqual(["run-0", "run-1"]);
    const rest = await journal.read(TENANT_A, page.next);
    expect(rest.entries.map((entry) => entry.record.runId)).toEqual(["run-2", "run-3", "run-4"]);

    await writeFile(tenantPaths(dir, TENANT_A).usageJournal, `${JSON.stringify(record("fresh"))}\n`);
    const after = await journal.read(TENANT_A, rest.next);
    expect(after.entries.map((entry) => entry.record.runId)).toEqual(["fresh"]);
  });

  it("answers each tenant's size from its own journal, never through a link to another tenant's", async () => {
    const journal = journalOf();
    await mkdir(tenantPaths(dir, TENANT_B).root, { recursive: true });
    await journal.append(TENANT_B, record("b-run"));
    const sizeOfB = await journal.size(TENANT_B);
    expect(sizeOfB).toBe((await readFile(tenantPaths(dir, TENANT_B).usageJournal)).length);
    expect(await journal.size(TENANT_A)).toBe(0); // none yet
    await journal.append(TENANT_A, record("a-run"));
    expect(await journal.size(TENANT_A)).toBe((await readFile(tenantPaths(dir, TENANT_A).usageJournal)).length);
    // A's journal replaced by a link to B's: A has nothing to report, B still its own.
    await rm(tenantPaths(dir, TENANT_A).usageJournal);
    await symlink(tenantPaths(dir, TENANT_B).usageJournal, tenantPaths(dir, TENANT_A).usageJournal);
    expect(await journal.size(TENANT_A)).toBe(0);
    await expect(journal.read(TENANT_A, 0)).rejects.toMatchObject({ code: "path_escape" });
    expect(await journal.size(TENANT_B)).toBe(sizeOfB);
  });

  it("drops the record of a tenant erased meanwhile instead of recreating its directory", async () => {
    const journal = journalOf();
    await rm(tenantPaths(dir, TENANT_A).root, { recursive: true });
    await journal.append(TENANT_A, record("late"));
    expect(await journal.size(TENANT_A)).toBe(0);
    expect((await journal.read(TENANT_A, 0)).entries).toEqual([]);
  });
});

/**
 * Makes the tenant's directory refuse writes for real, and returns how to undo that: as root
 * (where permissions stop nothing) a read-only tmpfs mounted over it (EROFS), else chmod (EACCES).
 */
function refuseWrites(root: string): { allow: () => void } {
  if (process.getuid?.() !== 0) {
    chmodSync(root, 0o500);
    undo.push(() => chmodSync(root, 0o700));
    return { allow: () => chmodSync(root, 0o700) };
  }
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", root], { stdio: "pipe" });
  undo.push(() => execFileSync("umount", ["-l", root], { stdio: "pipe" }));
  execFileSync("mount", ["-o", "remount,ro", root], { stdio: "pipe" });
  return { allow: () => execFileSync("mount", ["-o", "remount,rw", root], { stdio: "pipe" }) };
}
const undo: (() => void)[] = [];
afterEach(() => {
  for (const step of undo.splice(0).reverse()) step();
});

describe("the usage journal on a disk that refuses writes", () => {
  it("keeps the records and writes them once the disk takes them again", async () => {
    const warnings: string[] = [];
    const journal = createUsageJournal({
      dataDir: dir,
      locks: journalOf.locks(),
      logger: { ...logger, warn: (message: string) => warnings.push(message) },
      retryMs: 1_000_000,
    });
    const disk = refuseWrites(tenantPaths(dir, TENANT_A).root);
    await journal.append(TENANT_A, record("run-1"));
    expect(journal.unwritten()).toBe(1);
    expect(warnings.join("\n")).toMatch(/usage of 1 run\(s\) of tenant .* not journaled yet \(storage_(read_only|unavailable)\); retrying/);
    disk.allow();
    await journal.append(TENANT_A, record("run-2"));
    expect(journal.unwritten()).toBe(0);
    expect((await journal.read(TENANT_A, 0)).entries.map((entry) => entry.record.runId)).toEqual(["run-1", "run-2"]);
    journal.close();
  });
});
