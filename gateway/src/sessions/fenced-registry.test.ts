import { randomUUID } from "node:crypto";
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { SessionSummary, TranscriptEntry } from "@workforce/protocol";
import { lockOwnersDirPath, tenantPaths } from "@workforce/protocol/tenant-path";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createRedisLeases } from "../coordination/adapters/redis-leases";
import { createRedisRegistryVersions } from "../coordination/adapters/redis-registry-versions";
import { newRedisClient, type RedisClient } from "../coordination/redis-connection";
import type * as FileIdentityModule from "../fs/file-identity";
import { createFileLocks } from "../fs/file-lock";
import { silentLogger } from "../logger";
import { deleteRedisKeys, REDIS_URL, redisForTests } from "../test-support/redis";
import { SessionRegistry } from "./session-registry";
import { createSessionStore, type SessionStore } from "./session-store";
import { readTranscript } from "./transcript";

/**
 * stat() as a stale NFS attribute cache answers it: the registry files named in `frozen` keep the
 * size, inode and times they had when frozen, whatever happens to them.
 */
const lyingStat = vi.hoisted(() => ({ frozen: new Map<string, unknown>() }));
vi.mock("../fs/file-identity", async (importOriginal) => {
  const actual = await importOriginal<typeof FileIdentityModule>();
  return { ...actual, fileIdentity: (file: string) => (lyingStat.frozen.has(file) ? lyingStat.frozen.get(file) : actual.fileIdentity(file)) };
});

async function freezeStat(files: readonly string[]): Promise<void> {
  const actual = await vi.importActual<typeof FileIdentityModule>("../fs/file-identity");
  for (const file of files) lyingStat.frozen.set(file, actual.fileIdentity(file));
}

const reachable = await redisForTests("fenced registry tests");

const TENANT = "66666666-6666-4666-8666-666666666666";
const ref = { tenantId: TENANT, agent: "ada" };
const prefix = `workforce-test:${randomUUID()}:`;
let dataDir: string;
const cleanups: (() => Promise<void> | void)[] = [];

/** What one gateway brings to the shared data dir in cluster mode: its own Redis connection, leases, versions and lock owner. */
async function clusterDeps(memberId: string) {
  const client: RedisClient = newRedisClient(REDIS_URL, () => undefined);
  await client.connect();
  const leases = createRedisLeases({ client, memberId, keyPrefix: prefix, ttlMs: 5_000, logger: silentLogger });
  const registryVersions = createRedisRegistryVersions({ client, keyPrefix: prefix, logger: silentLogger });
  const locks = createFileLocks({ logger: silentLogger, ownerDir: lockOwnersDirPath(dataDir) });
  cleanups.push(async () => {
    await leases.close();
    locks.close();
    if (client.isOpen) client.destroy();
  });
  return { client, leases, registryVersions, locks };
}

/** A gateway's session store in cluster mode; small journal limits so compactions interleave with the other's appends. */
async function gateway(memberId: string): Promise<SessionStore> {
  const deps = await clusterDeps(memberId);
  const sessions = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date(), ...deps, compactDelayMs: 60_000, minJournalLines: 5, eagerMaxSessions: 3 });
  cleanups.push(() => sessions.flushAll());
  return sessions;
}

const user = (text: string): TranscriptEntry => ({ type: "user", id: randomUUID(), parentId: null, timestamp: new Date().toISOString(), content: [{ type: "text", text }] });
const keysOf = (sessions: readonly SessionSummary[]) => sessions.map((session) => session.key).sort();
const agentPaths = () => tenantPaths(dataDir, TENANT).agent("ada");

/** Every transcript on disk, summarised by what a user sees of it: key → number of messages. */
async function transcriptsOnDisk(): Promise<Record<string, number>> {
  const { sessionsDir } = agentPaths();
  const found: Record<string, number> = {};
  for (const name of await readdir(sessionsDir)) {
    if (!name.endsWith(".jsonl") || name === "sessions.journal.jsonl") continue;
    const transcript = await readTranscript(path.join(sessionsDir, name));
    if (transcript) found[transcript.header.key] = transcript.entries.length;
  }
  return found;
}

const countsOf = (sessions: readonly SessionSummary[]) => Object.fromEntries(sessions.map((session) => [session.key, session.messageCount]));

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-fenced-registry-"));
});
afterEach(async () => {
  lyingStat.frozen.clear();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dataDir, { recursive: true, force: true });
});
afterAll(async () => {
  if (reachable) await deleteRedisKeys(prefix);
});

describe.skipIf(!reachable)("session registry in cluster mode", () => {
  it("loses no entry when two gateways create and update sessions of one agent at once, through compactions", async () => {
    const [a, b] = [await gateway("gw-a"), await gateway("gw-b")];
    const keys = (name: string) => Array.from({ length: 15 }, (_, index) => `${name}-${index}`);
    await Promise.all([...keys("a").map((key) => a.open(ref, key, `hello ${key}`)), ...keys("b").map((key) => b.open(ref, key, `hello ${key}`))]);
    // Each writes to the other's sessions too, so both registries change under both gateways.
    await Promise.all([
      ...keys("b").map((key) => a.append(ref, key, [user(`from a to ${key}`)])),
      ...keys("a").map((key) => b.append(ref, key, [user(`from b to ${key}`)])),
      ...keys("a").slice(0, 5).map((key) => a.append(ref, key, [user("again")])),
    ]);

    const onDisk = await transcriptsOnDisk();
    expect(Object.keys(onDisk)).toHaveLength(30);
    expect(countsOf(await a.list(ref))).toEqual(onDisk);
    expect(countsOf(await b.list(ref))).toEqual(onDisk);

    // Written out: sessions.json names every session, stamped with the fence of its writer; a third gateway loads the same.
    await a.flushAll();
    await b.flushAll();
    const registry = JSON.parse(await readFile(agentPaths().registry, "utf8")) as Record<string, SessionSummary & { fence?: number }>;
    expect(countsOf(Object.values(registry))).toEqual(onDisk);
    expect(Object.values(registry).every((entry) => typeof entry.fence === "number" && entry.fence > 0)).toBe(true);
    const c = await gateway("gw-c");
    expect(countsOf(await c.list(ref))).toEqual(onDisk);
  }, 30_000);

  it("sees another gateway's change while stat() shows the registry files unchanged, because Redis records the registry's version", async () => {
    const [a, b] = [await gateway("gw-a"), await gateway("gw-b")];
    await a.open(ref, "first", "hi");
    expect(keysOf(await b.list(ref))).toEqual(["first"]);
    const { registry, registryJournal } = agentPaths();
    await freezeStat([registry, registryJournal]);
    await a.open(ref, "second", "hello");
    await a.open(ref, "third", "hello");
    expect(keysOf(await b.list(ref))).toEqual(["first", "second", "third"]);
  });

  it("refuses a stalled ex-holder's registry write after a newer holder wrote, and nobody sees it", async () => {
    const deps = await clusterDeps("gw-a");
    const paths = agentPaths();
    await mkdir(paths.sessionsDir, { recursive: true });
    const options = { logger: silentLogger, locks: deps.locks, compactDelayMs: 60_000, minJournalLines: 1_000, eagerMaxSessions: 0 };
    const stalled = await SessionRegistry.load(paths, { ...options, cluster: { leases: deps.leases, versions: deps.registryVersions, name: `${TENANT}/ada` } });
    const other = await clusterDeps("gw-b");
    const taker = await SessionRegistry.load(paths, { ...options, cluster: { leases: other.leases, versions: other.registryVersions, name: `${TENANT}/ada` } });
    cleanups.push(() => stalled.close(), () => taker.close());

    let resume: () => void = () => undefined;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const late = stalled.getOrCreate("late", async () => {
      entered();
      await resumed;
      return summary("late");
    });
    await inside;
    // The stalled holder's lease expires (its key vanishes from Redis); the other gateway takes it and writes.
    await deps.client.del(`${prefix}lease:registry:${TENANT}/ada`);
    await taker.getOrCreate("taken", async () => summary("taken"));
    resume();

    await expect(late).rejects.toMatchObject({ code: "storage_unavailable", retryable: true });
    expect(await readFile(paths.registryJournal, "utf8")).not.toContain('"late"');
    await taker.sync();
    expect(taker.list().map((session) => session.key)).toEqual(["taken"]);
    // The ex-holder reloads at its next access and sees what the newer holder wrote.
    await stalled.sync();
    expect(stalled.list().map((session) => session.key)).toEqual(["taken"]);
  });

  it("recovers when Redis lost the registry's version: the files are read whole, rewritten, and the version recorded again", async () => {
    const [a, b] = [await gateway("gw-a"), await gateway("gw-b")];
    await a.open(ref, "one", "hi");
    await b.open(ref, "two", "hi");
    const versionKey = `${prefix}registry:${TENANT}/ada`;
    const redis = newRedisClient(REDIS_URL, () => undefined);
    await redis.connect();
    cleanups.push(() => redis.destroy());
    expect(await redis.del(versionKey)).toBe(1);
    await a.open(ref, "three", "hi");
    expect(keysOf(await b.list(ref))).toEqual(["one", "three", "two"]);
    expect(keysOf(await (await gateway("gw-c")).list(ref))).toEqual(["one", "three", "two"]);
    expect(Number(await redis.hGet(versionKey, "generation"))).toBeGreaterThan(0);
    expect(await redis.pTTL(versionKey)).toBeGreaterThan(0);
  });

  it("ignores journal lines no lease holder recorded (a forged lower fence), and the next write drops them", async () => {
    const [a, b] = [await gateway("gw-a"), await gateway("gw-b")];
    await a.open(ref, "real", "hi");
    expect(keysOf(await b.list(ref))).toEqual(["real"]);
    const forged = { op: "put", session: summary("forged"), fence: 1 };
    await appendFile(agentPaths().registryJournal, JSON.stringify(forged) + "\n");
    await a.open(ref, "after", "hi");
    expect(keysOf(await b.list(ref))).toEqual(["after", "real"]);
    expect(keysOf(await a.list(ref))).toEqual(["after", "real"]);
    expect(await readFile(agentPaths().registryJournal, "utf8").catch(() => "")).not.toContain("forged");
  });
});

describe("registry on one host", () => {
  async function localStore(): Promise<SessionStore> {
    const locks = createFileLocks({ logger: silentLogger, ownerDir: lockOwnersDirPath(dataDir) });
    const sessions = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date(), locks, compactDelayMs: 60_000 });
    cleanups.push(() => locks.close(), () => sessions.flushAll());
    return sessions;
  }

  // The control for the cluster test above: the same lie hides the change where stat() decides.
  it("trusts stat(), so a stale attribute cache hides another process's change (why cluster mode asks Redis)", async () => {
    const [a, b] = [await localStore(), await localStore()];
    await a.open(ref, "first", "hi");
    expect(keysOf(await b.list(ref))).toEqual(["first"]);
    const { registry, registryJournal } = agentPaths();
    await freezeStat([registry, registryJournal]);
    await a.open(ref, "second", "hello");
    expect(keysOf(await b.list(ref))).toEqual(["first"]);
  });

  it("ignores a journal line whose fence is older than one before it", async () => {
    const paths = agentPaths();
    const locks = createFileLocks({ logger: silentLogger, ownerDir: lockOwnersDirPath(dataDir) });
    cleanups.push(() => locks.close());
    await (await localStore()).list(ref); // creates the agent's sessions directory
    const registry = await SessionRegistry.load(paths, { logger: silentLogger, locks, compactDelayMs: 60_000, minJournalLines: 1_000, eagerMaxSessions: 0 });
    cleanups.push(() => registry.close());
    const lines = [
      { op: "put", session: summary("kept"), fence: 7 },
      { op: "put", session: summary("stalled"), fence: 5 },
      { op: "put", session: summary("newer"), fence: 8 },
    ];
    await appendFile(paths.registryJournal, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
    await registry.sync();
    expect(registry.list().map((session) => session.key).sort()).toEqual(["kept", "newer"]);
  });
});

function summary(key: string): SessionSummary {
  const at = new Date().toISOString();
  return { key, sessionId: randomUUID(), title: key, createdAt: at, updatedAt: at, model: null, inputTokens: 0, outputTokens: 0, messageCount: 0, lastMessagePreview: "" };
}
