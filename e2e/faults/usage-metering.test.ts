/**
 * Metering with no way around it (issue 11): runs started on the gateway through every entry
 * point (HTTP, WebSocket, hooks, the OpenAI-compatible endpoint) with no platform client
 * listening all appear in the platform's /api/usage exactly once, also when the gateway is
 * SIGKILLed and restarted on the same data, and when the journal is read again from the start.
 * Gateway and platform are real processes; the platform reads the journal on demand (its
 * periodic reading is set far apart, so what the test sees is the on-demand path's doing).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RunInfo, UsageRecord } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { freePort, sleep, startGateway, startPlatform, type GatewayService, type PlatformService } from "../../bench/lib/services";
import { jsonRequest } from "../../bench/lib/sse-client";
import { createPlatformUser, type PlatformUser } from "../../bench/lib/targets";

const hookToken = `usage-metering-${randomUUID()}`;
let dataDir: string;
let pgliteDir: string;
let gatewayPort: number;
let gateway: GatewayService;
let platform: PlatformService;
let user: PlatformUser;

const startTheGateway = () => startGateway({ dataDir, hookToken, port: gatewayPort, env: { OFFLINE_MODEL_DELAY_MS: "1" } });

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-usage-"));
  pgliteDir = await mkdtemp(path.join(os.tmpdir(), "wf-usage-db-"));
  gatewayPort = await freePort();
  gateway = await startTheGateway();
  platform = await startPlatform({ gatewayUrl: gateway.url, hookToken, dataDir, pgliteDir, env: { WORKFORCE_USAGE_INGEST_MS: "3600000" } });
  user = await createPlatformUser(platform.url);
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  await gateway?.stop();
  for (const dir of [dataDir, pgliteDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const gatewayHeaders = () => ({ authorization: `Bearer ${hookToken}`, "x-tenant-id": user.tenantId });

/** Starts a run through one of the gateway's entry points and returns its id; nobody follows its events. */
async function startRun(entry: "http" | "hook" | "openai" | "ws", message: string): Promise<string> {
  const headers = gatewayHeaders();
  if (entry === "http") {
    const response = await jsonRequest(`${gateway.url}/v1/agents/${user.slug}/runs`, "POST", headers, { message });
    expect(response.status).toBe(202);
    return RunInfo.parse(response.body).runId;
  }
  if (entry === "hook") {
    const response = await jsonRequest(`${gateway.url}/hooks/agent`, "POST", headers, { agent: user.slug, message });
    expect(response.status).toBe(202);
    return RunInfo.parse(response.body).runId;
  }
  if (entry === "openai") {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ model: `agent:${user.slug}`, messages: [{ role: "user", content: message }], stream: true }),
    });
    expect(response.status).toBe(200);
    const runId = response.headers.get("x-run-id") ?? "";
    // The client hangs up at once: the run goes on without anyone listening.
    await response.body?.cancel();
    return runId;
  }
  const socket = new WebSocket(`${gateway.url.replace("http", "ws")}/v1/ws`, { headers });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    const answer = new Promise<unknown>((resolve) => socket.on("message", (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { type: string; id?: string; payload?: unknown };
      if (frame.type === "res" && frame.id === "1") resolve(frame.payload);
    }));
    socket.send(JSON.stringify({ type: "req", id: "1", method: "chat.send", params: { agent: user.slug, message } }));
    return RunInfo.parse(await answer).runId;
  } finally {
    socket.terminate();
  }
}

/** Waits until the gateway says the run ended (what it reports, not how long it takes). */
async function ended(runId: string): Promise<void> {
  for (;;) {
    const response = await jsonRequest(`${gateway.url}/v1/runs/${runId}`, "GET", gatewayHeaders());
    if (response.status === 200 && !["queued", "running"].includes(RunInfo.parse(response.body).status)) return;
    await sleep(20);
  }
}

interface UsageTotals {
  runs: number;
  inputTokens: number;
  outputTokens: number;
}

/** Every run here uses the operator's model key: none is counted as the organisation's own (issue 14). */
const OPERATOR_KEY_ONLY = { runs: 0, inputTokens: 0, outputTokens: 0 };

async function platformUsage(): Promise<UsageTotals> {
  const response = await jsonRequest<{ totals: UsageTotals }>(`${platform.url}/api/usage?days=30`, "GET", user.headers);
  expect(response.status).toBe(200);
  return response.body.totals;
}

/** What the journal on disk says, each run once. */
async function journalTotals(): Promise<UsageTotals & { runIds: Set<string> }> {
  const text = await readFile(tenantPaths(dataDir, user.tenantId).usageJournal, "utf8");
  const records = new Map<string, UsageRecord>();
  for (const line of text.split("\n")) {
    const parsed = UsageRecord.safeParse(line ? JSON.parse(line) : undefined);
    if (parsed.success) records.set(parsed.data.runId, parsed.data);
  }
  const all = [...records.values()];
  return {
    runIds: new Set(records.keys()),
    runs: all.length,
    inputTokens: all.reduce((sum, record) => sum + record.inputTokens, 0),
    outputTokens: all.reduce((sum, record) => sum + record.outputTokens, 0),
  };
}

/** Waits until the journal holds these runs (a run is journaled just after it ends). */
async function journaled(runIds: readonly string[]): Promise<void> {
  for (;;) {
    const seen = await journalTotals().then(
      (totals) => totals.runIds,
      () => new Set<string>(),
    );
    if (runIds.every((runId) => seen.has(runId))) return;
    await sleep(20);
  }
}

describe("metering every entry point", () => {
  it("counts runs nobody listened to once each, through a SIGKILL of the gateway and a journal read again", async () => {
    const first = [];
    for (const entry of ["http", "hook", "openai", "ws"] as const) first.push(await startRun(entry, `metered over ${entry}`));
    for (const runId of first) await ended(runId);
    await journaled(first);
    const before = await journalTotals();
    expect(before.runs).toBe(4);
    expect(before.inputTokens + before.outputTokens).toBeGreaterThan(0);
    expect(await platformUsage()).toEqual({ runs: 4, inputTokens: before.inputTokens, outputTokens: before.outputTokens, organisationKey: OPERATOR_KEY_ONLY });
    // Asking again reads nothing twice.
    expect(await platformUsage()).toEqual({ runs: 4, inputTokens: before.inputTokens, outputTokens: before.outputTokens, organisationKey: OPERATOR_KEY_ONLY });

    // More runs, journaled but not yet read by the platform, then the gateway dies without warning.
    const second = [];
    for (const entry of ["hook", "openai", "http", "ws"] as const) second.push(await startRun(entry, `before the kill over ${entry}`));
    for (const runId of second) await ended(runId);
    await journaled(second);
    await gateway.kill();
    gateway = await startTheGateway();
    const third = [await startRun("hook", "after the restart"), await startRun("openai", "after the restart too")];
    for (const runId of third) await ended(runId);
    await journaled(third);

    const after = await journalTotals();
    expect(after.runs).toBe(10);
    for (const runId of [...first, ...second, ...third]) expect(after.runIds.has(runId)).toBe(true);
    expect(await platformUsage()).toEqual({ runs: 10, inputTokens: after.inputTokens, outputTokens: after.outputTokens, organisationKey: OPERATOR_KEY_ONLY });

    // A journal rewritten shorter than the platform's cursor (restored from a backup) is read from
    // its start again: every run in it is already counted, and is not counted twice.
    const file = tenantPaths(dataDir, user.tenantId).usageJournal;
    const lines = (await readFile(file, "utf8")).split("\n").filter(Boolean);
    await writeFile(file, `${lines.slice(0, 3).join("\n")}\n`);
    expect(await platformUsage()).toEqual({ runs: 10, inputTokens: after.inputTokens, outputTokens: after.outputTokens, organisationKey: OPERATOR_KEY_ONLY });
    await writeFile(file, `${lines.join("\n")}\n`);
    expect(await platformUsage()).toEqual({ runs: 10, inputTokens: after.inputTokens, outputTokens: after.outputTokens, organisationKey: OPERATOR_KEY_ONLY });
  }, 120_000);
});
