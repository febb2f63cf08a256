import { randomUUID } from "node:crypto";
import { appendFile, mkdtemp, readFile, rm, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AppError, type TranscriptEntry } from "@workforce/protocol";
import { lockOwnersDirPath, tenantPaths } from "@workforce/protocol/tenant-path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRedisLeases } from "../coordination/adapters/redis-leases";
import type { Leases } from "../coordination/leases";
import { newRedisClient, type RedisClient } from "../coordination/redis-connection";
import { createFileLocks, type FileLocks } from "../fs/file-lock";
import { silentLogger } from "../logger";
import { deleteRedisKeys, REDIS_URL, redisForTests } from "../test-support/redis";
import { createSessionStore, type SessionStore } from "./session-store";

const reachable = await redisForTests("fenced transcript tests");

const TENANT = "55555555-5555-4555-8555-555555555555";
const ref = { tenantId: TENANT, agent: "ada" };
const prefix = `workforce-test:${randomUUID()}:`;
let dataDir: string;
const cleanups: (() => Promise<void> | void)[] = [];

/** One gateway's session store on the shared data dir: its own lock owner, Redis connection and member id. */
async function gateway(memberId: string, ttlMs: number): Promise<{ sessions: SessionStore; client: RedisClient; leases: Leases }> {
  const client = newRedisClient(REDIS_URL, () => undefined);
  await client.connect();
  const leases = createRedisLeases({ client, memberId, keyPrefix: prefix, ttlMs, logger: silentLogger });
  const locks: FileLocks = createFileLocks({ logger: silentLogger, ownerDir: lockOwnersDirPath(dataDir) });
  const sessions = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date(), locks, leases, compactDelayMs: 60_000 });
  cleanups.push(async () => {
    await sessions.flushAll();
    await leases.close();
    locks.close();
    if (client.isOpen) client.destroy();
  });
  return { sessions, client, leases };
}

const at = () => new Date().toISOString();
const user = (id: string, text: string): TranscriptEntry => ({ type: "user", id, parentId: null, timestamp: at(), content: [{ type: "text", text }] });
const assistant = (id: string, parentId: string, text: string): TranscriptEntry => ({
  type: "assistant",
  id,
  parentId,
  timestamp: at(),
  content: [{ type: "text", text }],
  model: { provider: "offline", id: "offline", offline: true },
  usage: { inputTokens: 1, outputTokens: 1 },
  stopReason: "end_turn",
});

/** A run's lease held open until `finish` is called; `inside` runs under it first. */
function holdRun(sessions: SessionStore, sessionId: string, inside: () => Promise<void>, onLost?: (error: AppError) => void) {
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let entered: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (entered = resolve));
  const done = sessions.withSessionLease(ref, sessionId, { signal: new AbortController().signal, timeoutMs: 10_000, onLost }, async () => {
    await inside();
    entered();
    await finished;
  });
  return { ready, finish, done };
}

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-fenced-"));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dataDir, { recursive: true, force: true });
});
afterAll(async () => {
  if (reachable) await deleteRedisKeys(prefix);
});

describe.skipIf(!reachable)("fenced transcript writes in cluster mode", () => {
  it("refuses a stalled ex-holder's append once another gateway took the session over, and ignores a line it forged", async () => {
    const a = await gateway("gw-a", 1_000);
    const b = await gateway("gw-b", 1_000);
    const { summary, transcriptPath } = await a.sessions.open(ref, "chat", "hello");

    // Gateway A runs in the session and writes the user's message under its lease.
    const lostErrors: AppError[] = [];
    const runA = holdRun(a.sessions, summary.sessionId, () => a.sessions.append(ref, "chat", [user("u1", "hello")]).then(() => undefined), (error) => lostErrors.push(error));
    await runA.ready;
    const fenceA = (JSON.parse((await readFile(transcriptPath, "utf8")).trim().split("\n").at(-1)!) as { fence: number }).fence;
    expect(fenceA).toBeGreaterThan(0);

    // A stalls: its renewals stop reaching Redis. B waits for the lease, takes it over once it
    // expired, and answers the message.
    a.client.destroy();
    const runB = holdRun(b.sessions, summary.sessionId, () => b.sessions.append(ref, "chat", [assistant("a1", "u1", "answer from B")]).then(() => undefined));
    await runB.ready;
    const afterB = await readFile(transcriptPath, "utf8");
    const linesB = afterB.trim().split("\n").map((line) => JSON.parse(line) as { type: string; fence?: number; id: string });
    const marker = linesB.at(-2)!;
    expect(marker).toMatchObject({ type: "session-meta" });
    expect(marker.fence).toBeGreaterThan(fenceA);
    expect(linesB.at(-1)).toMatchObject({ id: "a1", fence: marker.fence });

    // A wakes up and tries to write its own answer: refused, nothing written, its run told why.
    const refused = await a.sessions.append(ref, "chat", [assistant("a-late", "u1", "late answer from A")]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "storage_unavailable", message: expect.stringContaining("lost its lease") as string });
    expect(await readFile(transcriptPath, "utf8")).toBe(afterB);
    await expect.poll(() => lostErrors.map((error) => error.code)).toEqual(["run_interrupted"]);

    // A line that slipped through anyway (written between A's check and its write), after B's marker: ignored.
    await appendFile(transcriptPath, JSON.stringify({ ...assistant("a-forged", "u1", "forged by the old holder"), fence: fenceA }) + "\n");
    const history = await b.sessions.history(ref, "chat");
    expect(history.entries.map((entry) => entry.id)).toEqual(["u1", "a1"]);
    expect(history.entries.every((entry) => !("fence" in entry))).toBe(true);

    runB.finish();
    await runB.done;
    runA.finish();
    await runA.done;

    // The registry rebuilt from the transcript (its files lost) does not count the forged line either.
    const sessionsDir = tenantPaths(dataDir, TENANT).agent("ada").sessionsDir;
    for (const name of ["sessions.json", "sessions.journal.jsonl"]) await unlink(path.join(sessionsDir, name)).catch(() => undefined);
    const fresh = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date() });
    cleanups.push(() => fresh.flushAll());
    expect(await fresh.get(ref, "chat")).toMatchObject({ messageCount: 2, lastMessagePreview: "answer from B" });
    expect((await fresh.history(ref, "chat")).entries.map((entry) => entry.id)).toEqual(["u1", "a1"]);
  });

  it("asks Redis before each append: a lease that expired while its holder was stalled refuses the write at once", async () => {
    const a = await gateway("gw-a", 60_000);
    const b = await gateway("gw-b", 60_000);
    const { summary, transcriptPath } = await a.sessions.open(ref, "chat", "hello");
    const runA = holdRun(a.sessions, summary.sessionId, () => a.sessions.append(ref, "chat", [user("u1", "hello")]).then(() => undefined));
    await runA.ready;
    // A's lease expires in Redis (A was frozen past its TTL); A itself has noticed nothing yet.
    await b.client.del(`${prefix}lease:run:${TENANT}/ada/${summary.sessionId}`);
    const runB = holdRun(b.sessions, summary.sessionId, async () => undefined);
    await runB.ready;
    const before = await readFile(transcriptPath, "utf8");
    await expect(a.sessions.append(ref, "chat", [assistant("a-late", "u1", "late")])).rejects.toMatchObject({ code: "storage_unavailable" });
    expect(await readFile(transcriptPath, "utf8")).toBe(before);
    // A's run ends: its release, too late, leaves B's lease alone.
    runA.finish();
    await runA.done;
    expect(await a.leases.holder(`run:${TENANT}/ada/${summary.sessionId}`)).toBe("gw-b");
    runB.finish();
    await runB.done;
    expect(await a.leases.holder(`run:${TENANT}/ada/${summary.sessionId}`)).toBeUndefined();
  });

  it("writes no fence marker on an ordinary hand-over, and fences every line a run appends", async () => {
    const a = await gateway("gw-a", 15_000);
    const b = await gateway("gw-b", 15_000);
    const { summary, transcriptPath } = await a.sessions.open(ref, "chat", "hello");
    const first = holdRun(a.sessions, summary.sessionId, () => a.sessions.append(ref, "chat", [user("u1", "hello")]).then(() => undefined));
    await first.ready;
    first.finish();
    await first.done;
    const second = holdRun(b.sessions, summary.sessionId, () => b.sessions.append(ref, "chat", [assistant("a1", "u1", "hi")]).then(() => undefined));
    await second.ready;
    second.finish();
    await second.done;

    const lines = (await readFile(transcriptPath, "utf8")).trim().split("\n").slice(1).map((line) => JSON.parse(line) as { id: string; type: string; fence: number });
    expect(lines.map((line) => line.id)).toEqual(["u1", "a1"]);
    expect(lines[1]!.fence).toBeGreaterThan(lines[0]!.fence);
    expect(await a.leases.holder(`run:${TENANT}/ada/${summary.sessionId}`)).toBeUndefined();
  });
});
