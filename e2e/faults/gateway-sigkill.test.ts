/**
 * SIGKILL the gateway at random moments while streaming runs are in flight across several
 * tenants and sessions (at least 100 runs, in batches; the gateway restarts on the same data
 * after each kill). Afterwards every registry, journal and transcript parses, every message
 * whose run reported `run-end` ok is on disk exactly once with its reply, nothing is duplicated,
 * and the restarted gateway serves every session.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { SessionHistory, type TranscriptEntry } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_API_KEY, freePort, startGateway, type GatewayService } from "../../bench/lib/services";
import { jsonRequest, type StreamResult } from "../../bench/lib/sse-client";
import { createGatewayAgent, gatewayTarget, type GatewayTenant } from "../../bench/lib/targets";
import { inspectDataDir, seededRandom, textOfEntry, type DataDirReport } from "./support";

const SEED = Number(process.env.FAULT_SEED ?? 20_260_601);
const BATCHES = 6;
const RUNS_PER_BATCH = 18;
const SESSION_KEYS = ["alpha", "beta", "gamma"];

interface SentRun {
  tenant: GatewayTenant;
  sessionKey: string;
  message: string;
  result: StreamResult;
}

let fake: FakeUpstream;
let dataDir: string;
let port: number;
const hookToken = `kill-test-${randomUUID()}`;
let gateway: GatewayService;
const tenants: GatewayTenant[] = [];
const sent: SentRun[] = [];
const killPoints: string[] = [];
let report: DataDirReport;

const start = () => startGateway({ dataDir, fakeUrl: fake.url, hookToken, port });

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: FAKE_API_KEY, tokens: 24, tokenDelayMs: 4, recordRequests: false });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-kill-"));
  port = await freePort();
  gateway = await start();
  for (let index = 0; index < 3; index += 1) tenants.push(await createGatewayAgent(gateway.url, hookToken, `Kill Test ${index}`));

  const random = seededRandom(SEED);
  for (let batch = 0; batch < BATCHES; batch += 1) {
    // Even batches: the kill comes after the k-th run of the batch ended ok (k = 0: right after the
    // first token streamed), plus up to 60 ms — tied to progress, so a slow machine still sees kills
    // before, during and after runs. Odd batches: at a random wall-clock moment, 20-400 ms in.
    // Runs in the same session queue behind each other.
    const byProgress = batch % 2 === 0;
    const killAfter = byProgress ? Math.floor(random() * 12) : Number.POSITIVE_INFINITY;
    const jitter = byProgress ? Math.floor(random() * 60) : 20 + Math.floor(random() * 380);
    killPoints.push(byProgress ? `after ${killAfter} ok +${jitter}ms` : `at ${jitter}ms`);
    let ended = 0;
    let tokens = 0;
    let wake: () => void = () => undefined;
    const progressed = new Promise<void>((resolve) => (wake = resolve));
    const check = () => {
      if ((killAfter === 0 && tokens > 0) || (killAfter > 0 && ended >= killAfter) || !byProgress) wake();
    };
    const inFlight: Promise<void>[] = [];
    for (let index = 0; index < RUNS_PER_BATCH; index += 1) {
      const tenant = tenants[index % tenants.length]!;
      const sessionKey = SESSION_KEYS[Math.floor(index / tenants.length) % SESSION_KEYS.length]!;
      const message = `kill test batch ${batch} run ${index} ${randomUUID().slice(0, 8)}`;
      inFlight.push(
        gatewayTarget(gateway.url, tenant)
          .send(message, sessionKey, { timeoutMs: 20_000, onToken: () => ((tokens += 1), check()) })
          .then((result) => {
            sent.push({ tenant, sessionKey, message, result });
            if (result.end?.status === "ok") ended += 1;
            check();
          }),
      );
    }
    await Promise.race([progressed, Promise.all(inFlight)]);
    await new Promise((resolve) => setTimeout(resolve, jitter));
    await gateway.kill();
    await Promise.all(inFlight);
    gateway = await start();
  }
  report = await inspectDataDir(dataDir);
}, 120_000);

afterAll(async () => {
  await gateway?.stop();
  await fake?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function transcriptOf(tenant: GatewayTenant, sessionKey: string) {
  return report.transcripts.find((transcript) => transcript.file.includes(tenant.tenantId) && transcript.header.key === sessionKey);
}

describe(`SIGKILL during streaming runs (seed ${SEED})`, () => {
  it("ran at least 100 streaming runs, some completed and some cut by the kill", () => {
    expect(sent.length).toBeGreaterThanOrEqual(100);
    const ok = sent.filter((run) => run.result.end?.status === "ok");
    const cut = sent.filter((run) => run.result.end === undefined);
    expect(ok.length, `kill points: ${killPoints.join(", ")}`).toBeGreaterThan(0);
    expect(cut.length, `kill points: ${killPoints.join(", ")}`).toBeGreaterThan(0);
  });

  it("leaves every sessions.json, journal and transcript readable", () => {
    expect(report.badRegistries).toEqual([]);
    expect(report.badHeaders).toEqual([]);
    // A SIGKILL cannot tear a write(2), so not even a torn last line is expected here; a line that is
    // JSON but breaks the schema would be a real corruption.
    expect(report.lineProblems).toEqual([]);
    expect(report.registries.length).toBe(tenants.length);
    expect(report.transcripts.length).toBe(tenants.length * SESSION_KEYS.length);
  });

  it("keeps every message whose run reported success exactly once, with its reply", () => {
    const problems: string[] = [];
    for (const run of sent) {
      const transcript = transcriptOf(run.tenant, run.sessionKey);
      const users = (transcript?.entries ?? []).filter((entry) => entry.type === "user" && textOfEntry(entry) === run.message);
      if (users.length > 1) problems.push(`"${run.message}" is stored ${users.length} times`);
      if (run.result.end?.status !== "ok") continue;
      if (users.length !== 1) {
        problems.push(`"${run.message}" ended ok but is stored ${users.length} times`);
        continue;
      }
      const reply = transcript!.entries.find((entry): entry is Extract<TranscriptEntry, { type: "assistant" }> => entry.type === "assistant" && entry.parentId === users[0]!.id);
      if (!reply || reply.interrupted || textOfEntry(reply) !== run.result.text) problems.push(`"${run.message}" ended ok but its reply is ${reply ? JSON.stringify(reply) : "missing"}`);
    }
    expect(problems).toEqual([]);
  });

  it("never repeats an entry id, and every entry's parent is the entry before it in its session", () => {
    for (const transcript of report.transcripts) {
      const ids = transcript.entries.map((entry) => entry.id);
      expect(new Set(ids).size).toBe(ids.length);
      const known = new Set<string>();
      for (const entry of transcript.entries) {
        if (entry.parentId !== null) expect(known.has(entry.parentId), `${transcript.file}: ${entry.id} points at ${entry.parentId}`).toBe(true);
        known.add(entry.id);
      }
    }
  });

  it("serves every session after the restart, with the entries that are on disk", async () => {
    for (const tenant of tenants) {
      const list = await jsonRequest<{ sessions: { key: string }[] }>(`${gateway.url}/v1/agents/${tenant.slug}/sessions`, "GET", tenant.headers);
      expect(list.status).toBe(200);
      expect(list.body.sessions.map((session) => session.key).sort()).toEqual([...SESSION_KEYS].sort());
      for (const key of SESSION_KEYS) {
        const history = await jsonRequest(`${gateway.url}/v1/agents/${tenant.slug}/sessions/${key}`, "GET", tenant.headers);
        expect(history.status).toBe(200);
        const parsed = SessionHistory.parse(history.body);
        expect(parsed.entries.map((entry) => entry.id)).toEqual(transcriptOf(tenant, key)!.entries.map((entry) => entry.id));
      }
    }
  });

  it("keeps each session's summary (message count) in step with its transcript", async () => {
    const stale: string[] = [];
    for (const tenant of tenants) {
      const list = await jsonRequest<{ sessions: { key: string; messageCount: number }[] }>(`${gateway.url}/v1/agents/${tenant.slug}/sessions`, "GET", tenant.headers);
      for (const session of list.body.sessions) {
        const onDisk = transcriptOf(tenant, session.key)!.entries.filter((entry) => entry.type === "user" || entry.type === "assistant").length;
        if (session.messageCount !== onDisk) stale.push(`${tenant.tenantId}/${session.key}: registry says ${session.messageCount}, transcript has ${onDisk}`);
      }
    }
    expect(stale).toEqual([]);
  });

  it("accepts new runs in every session after the last restart", async () => {
    for (const tenant of tenants) {
      const result = await gatewayTarget(gateway.url, tenant).send("after the storm", SESSION_KEYS[0]!, { timeoutMs: 20_000 });
      expect(result.end).toEqual({ status: "ok", code: undefined });
    }
  });

  it("leaves no temporary files of interrupted atomic writes behind once restarted", async () => {
    // The gateway writes sessions.json through a temp file + rename; a kill between the two leaves the temp file.
    const after = await inspectDataDir(dataDir);
    expect(after.tempFiles.map((file) => path.relative(dataDir, file))).toEqual([]);
  });
});
