import { appendFile, mkdtemp, readFile, rm, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { TranscriptEntry } from "@workforce/protocol";
import { SessionSummary } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Logger } from "../logger";
import { createSessionStore, type SessionStore } from "./session-store";

const TENANT = "44444444-4444-4444-8444-444444444444";
const ref = { tenantId: TENANT, agent: "ada" };
let dataDir: string;
let warnings: string[];
const logger: Logger = { info: () => undefined, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) };
const stores: SessionStore[] = [];

function store(options: { eagerMaxSessions?: number; minJournalLines?: number } = {}): SessionStore {
  let tick = 0;
  const created = createSessionStore({
    dataDir,
    logger,
    now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)),
    compactDelayMs: 60_000,
    ...options,
  });
  stores.push(created);
  return created;
}

function userEntry(id: string, text: string, parentId: string | null = null): TranscriptEntry {
  return { type: "user", id, parentId, timestamp: new Date(Date.UTC(2026, 0, 2)).toISOString(), content: [{ type: "text", text }] };
}

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-sessions-"));
  warnings = [];
});
afterEach(async () => {
  for (const created of stores.splice(0)) await created.flushAll();
  await rm(dataDir, { recursive: true, force: true });
});

const agentPaths = () => tenantPaths(dataDir, TENANT).agent("ada");

describe("session store: crash safety", () => {
  it("skips a torn last transcript line without losing earlier ones, and appends cleanly after it", async () => {
    const sessions = store();
    const { summary, transcriptPath } = await sessions.open(ref, "chat", "hello");
    await sessions.append(ref, "chat", [userEntry("u1", "hello")]);
    await appendFile(transcriptPath, '{"type":"assistant","id":"a1","parentId":"u1","content":[{"type":"te');
    const history = await sessions.history(ref, "chat");
    expect(history.entries.map((entry) => entry.id)).toEqual(["u1"]);
    expect(warnings.join()).toContain("skipped unreadable line(s) 3");

    await sessions.append(ref, "chat", [userEntry("u2", "again", "u1")]);
    const lines = (await readFile(transcriptPath, "utf8")).split("\n");
    expect(JSON.parse(lines.at(-2)!)).toMatchObject({ id: "u2" });
    expect((await sessions.history(ref, "chat")).entries.map((entry) => entry.id)).toEqual(["u1", "u2"]);
    expect(summary.key).toBe("chat");
  });

  it("rebuilds a missing registry from the transcripts", async () => {
    const first = store();
    await first.open(ref, "one", "first question");
    await first.append(ref, "one", [userEntry("u1", "first question")]);
    await first.open(ref, "two", "second question");
    await first.flushAll();
    await unlink(agentPaths().registry);

    const second = store();
    const listed = await second.list(ref);
    expect(listed.map((session) => session.key).sort()).toEqual(["one", "two"]);
    expect(listed.find((session) => session.key === "one")).toMatchObject({ title: "first question", messageCount: 1 });
    const onDisk = JSON.parse(await readFile(agentPaths().registry, "utf8")) as Record<string, unknown>;
    expect(Object.keys(onDisk).sort()).toEqual(["one", "two"]);
  });

  it("replays the journal over a stale sessions.json, tolerating a torn journal line", async () => {
    const first = store({ eagerMaxSessions: 0, minJournalLines: 1_000 });
    await first.open(ref, "one", "q1");
    await first.flushAll();
    await first.open(ref, "two", "q2");
    await first.append(ref, "two", [userEntry("u1", "q2")]);
    // simulate a crash: sessions.json still only knows "one"; the journal has the rest plus a torn line
    const registryBefore = JSON.parse(await readFile(agentPaths().registry, "utf8")) as Record<string, unknown>;
    expect(Object.keys(registryBefore)).toEqual(["one"]);
    await appendFile(agentPaths().registryJournal, '{"op":"put","sess');

    const second = store();
    const two = (await second.list(ref)).find((session) => session.key === "two");
    expect(SessionSummary.parse(two)).toMatchObject({ messageCount: 1 });
  });

  it("drops registry entries whose transcript is gone", async () => {
    const first = store();
    const { transcriptPath } = await first.open(ref, "gone", "q");
    await first.open(ref, "kept", "q");
    await first.flushAll();
    await unlink(transcriptPath);
    expect((await store().list(ref)).map((session) => session.key)).toEqual(["kept"]);
  });
});

describe("session store: scale", () => {
  it("adds a message with a constant number of registry writes, however many sessions exist", async () => {
    const sessions = store({ eagerMaxSessions: 0, minJournalLines: 1_000 });
    for (let index = 0; index < 300; index += 1) await sessions.open(ref, `s${index}`, "q");
    await sessions.flushAll();
    const before = (await readFile(agentPaths().registry, "utf8")).length;
    await sessions.append(ref, "s5", [userEntry("u1", "one more")]);
    // sessions.json untouched; only one short journal line was written
    expect((await readFile(agentPaths().registry, "utf8")).length).toBe(before);
    const journal = (await readFile(agentPaths().registryJournal, "utf8")).trim().split("\n");
    expect(journal).toHaveLength(1);
    expect(journal[0]!.length).toBeLessThan(1_000);
  });
});
