import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runJournalPath, runJournalsDirPath, tenantPaths } from "@workforce/protocol/tenant-path";
import { RunInfo, SessionHistory } from "@workforce/protocol";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { lockHostId } from "../fs/file-lock";
import { silentLogger } from "../logger";
import { runLeasePath } from "../sessions/session-registry";
import { createSessionStore } from "../sessions/session-store";
import { readRunEvents, startTestGateway } from "../test-support/test-gateway";
import { createInFlightJournal, readInFlightJournal, type InFlightJournal, type InFlightRun } from "./in-flight-journal";
import { createInterruptedRuns } from "./interrupted-runs";

const TENANT = "33333333-3333-4333-8333-333333333333";
let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-journal-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const run = (index: number): InFlightRun => ({
  runId: `run-${index}`,
  tenantId: TENANT,
  agent: "ada",
  sessionKey: `key-${index}`,
  sessionId: `session-${index}`,
  model: { provider: "offline", id: "offline", offline: true },
  at: new Date().toISOString(),
});

describe("the journal of runs in flight", () => {
  it("records concurrent submits durably, forgets ended runs, and rotates down to the runs still in flight", async () => {
    const journal = createInFlightJournal({ dataDir, logger: silentLogger, maxLines: 25 });
    await Promise.all(Array.from({ length: 40 }, (_, index) => journal.submitted(run(index))));
    for (let index = 0; index < 37; index += 1) journal.ended(`run-${index}`);
    await journal.submitted(run(40));
    const found = readInFlightJournal(journal.file);
    expect(found?.live.map((entry) => entry.runId).sort()).toEqual(["run-37", "run-38", "run-39", "run-40"]);
    // Rotated: never much longer than its bound, whatever has gone through it.
    expect(readFileSync(journal.file, "utf8").trim().split("\n").length).toBeLessThanOrEqual(25 + 40);
    await journal.close();
    expect(existsSync(journal.file)).toBe(true); // runs left in flight: the next start recovers them
  });

  it("is removed at a clean shutdown once every run has ended", async () => {
    const journal = createInFlightJournal({ dataDir, logger: silentLogger });
    await journal.submitted(run(1));
    journal.ended("run-1");
    await journal.close();
    expect(existsSync(journal.file)).toBe(false);
  });
});

describe("a gateway's sends and its journal", () => {
  it("lets an agent's concurrent sends share a flush, and starts none before its record is durable", async () => {
    const journal = createInFlightJournal({ dataDir, logger: silentLogger });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    const recorded: string[] = [];
    // The disk takes its time with the first record: every write waits until released.
    const slowDisk: InFlightJournal = {
      ...journal,
      async submitted(run) {
        recorded.push(run.runId);
        await held;
        await journal.submitted(run);
      },
    };
    const harness = await startTestGateway({ dataDir, inFlight: slowDisk });
    try {
      expect((await harness.createAgent(TENANT)).status).toBe(201);
      const answered: string[] = [];
      const sends = Array.from({ length: 5 }, async (_, index) => {
        const response = await harness.request("POST", "/v1/agents/ada/runs", { tenant: TENANT, body: { message: `m${index}`, sessionKey: "s" } });
        const info = RunInfo.parse(await response.json());
        answered.push(info.runId);
        return { info, message: `m${index}` };
      });
      // All five reach the journal while the first is not yet durable (before, each waited for the one ahead of it).
      await vi.waitFor(() => expect(recorded).toHaveLength(5), { timeout: 10_000 });
      // Nothing of them has happened: no client has a run id, no message is in the transcript.
      expect(answered).toEqual([]);
      const before = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s", { tenant: TENANT })).json());
      expect(before.entries).toEqual([]);

      release();
      const runs = await Promise.all(sends);
      for (const { info } of runs) expect((await readRunEvents(await harness.request("GET", `/v1/runs/${info.runId}/events`, { tenant: TENANT }))).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
      // They ran in the order they were recorded, each in the journal before its client heard of it.
      const messageOf = new Map(runs.map(({ info, message }) => [info.runId, message]));
      const after = SessionHistory.parse(await (await harness.request("GET", "/v1/agents/ada/sessions/s", { tenant: TENANT })).json());
      const userTexts = after.entries.filter((entry) => entry.type === "user").map((entry) => JSON.stringify(entry.content));
      expect(userTexts).toEqual(recorded.map((runId) => JSON.stringify([{ type: "text", text: messageOf.get(runId) }])));
    } finally {
      await harness.gateway.close();
    }
    // Every run ended, so the clean shutdown removed the journal.
    expect(existsSync(journal.file)).toBe(false);
  });
});

describe("runs a dead process left behind", () => {
  async function plantJournal(pid: number, startedAt: string, runs: InFlightRun[]): Promise<string> {
    await mkdir(runJournalsDirPath(dataDir), { recursive: true });
    const file = runJournalPath(dataDir, `${"ab".repeat(8)}.jsonl`);
    const header = { type: "process", host: lockHostId(), pid, token: "ab".repeat(8), startedAt };
    writeFileSync(file, [header, ...runs.map((entry) => ({ type: "submit", ...entry }))].map((line) => JSON.stringify(line)).join("\n") + "\n");
    return file;
  }

  function recover() {
    const journal = createInFlightJournal({ dataDir, logger: silentLogger });
    const sessions = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date() });
    const interrupted = createInterruptedRuns({ dataDir, journal, sessions, logger: silentLogger, now: () => new Date(), newId: () => "x", retentionMs: 60_000, leaseTimeoutMs: 1_000 });
    return { journal, interrupted };
  }

  it("ends the runs of a process whose pid is gone as run_interrupted, taking them into its own journal", async () => {
    const gone = spawnSync(process.execPath, ["-e", ""]).pid;
    const file = await plantJournal(gone, new Date().toISOString(), [run(1), run(2)]);
    const { journal, interrupted } = recover();
    const located = interrupted.find(TENANT, "run-1");
    expect(located?.info()).toMatchObject({ runId: "run-1", status: "error", sessionKey: "key-1" });
    const events = [];
    for await (const event of located!.events.follow(0)) events.push(event);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "run_interrupted" } });
    expect(interrupted.find("44444444-4444-4444-8444-444444444444", "run-1")).toBeUndefined();
    await interrupted.idle();
    await interrupted.close();
    await journal.close();
    expect(existsSync(file)).toBe(false);
  });

  it("leaves alone a live process's journal, and one started after this process (a sibling gateway in it)", async () => {
    await plantJournal(process.ppid, new Date().toISOString(), [run(1)]);
    const first = recover();
    expect(first.interrupted.find(TENANT, "run-1")).toBeUndefined();
    await first.interrupted.close();
    await first.journal.close();
    await plantJournal(process.pid, new Date(Date.now() + 1_000).toISOString(), [run(2)]);
    const second = recover();
    expect(second.interrupted.find(TENANT, "run-2")).toBeUndefined();
    await second.interrupted.close();
    await second.journal.close();
  });
});

describe("a session lease taken over from a holder no journal reported", () => {
  it("closes the dead holder's cut-off message with the interrupted marker before the next message", async () => {
    const harness = await startTestGateway({ dataDir });
    try {
      expect((await harness.createAgent(TENANT)).status).toBe(201);
      const first = await harness.request("POST", "/v1/agents/ada/runs", { tenant: TENANT, body: { message: "hello", sessionKey: "s" }, headers: { accept: "text/event-stream" } });
      expect((await readRunEvents(first)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
      // A holder on another machine (no journal here) wrote the user's message and died holding the run lease.
      const ref = { tenantId: TENANT, agent: "ada" };
      const { sessionId } = await harness.gateway.sessions.get(ref, "s");
      const before = (await harness.gateway.sessions.readTranscript(ref, sessionId)).entries;
      await harness.gateway.sessions.append(ref, "s", [{ type: "user", id: "cut-user", parentId: before.at(-1)!.id, timestamp: new Date().toISOString(), runId: "dead-run", content: [{ type: "text", text: "are you there?" }] }]);
      const gone = spawnSync(process.execPath, ["-e", ""]).pid;
      writeFileSync(runLeasePath(tenantPaths(dataDir, TENANT).agent("ada"), sessionId), JSON.stringify({ host: lockHostId(), pid: gone, token: "dead" }));

      const next = await harness.request("POST", "/v1/agents/ada/runs", { tenant: TENANT, body: { message: "again", sessionKey: "s" }, headers: { accept: "text/event-stream" } });
      expect((await readRunEvents(next)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
      const entries = (await harness.gateway.sessions.readTranscript(ref, sessionId)).entries;
      expect(entries.map((entry) => entry.type)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant"]);
      expect(entries[3]).toMatchObject({ runId: "dead-run", parentId: "cut-user", interrupted: { code: "run_interrupted" } });
      expect((await harness.gateway.sessions.get(ref, "s")).messageCount).toBe(6);
    } finally {
      await harness.gateway.close();
    }
  });
});
