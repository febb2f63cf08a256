/**
 * A gateway process SIGKILLed mid-run, then started again on the same data dir: the run it was
 * executing and the one queued behind it both end `run_interrupted` (status, SSE replay,
 * WebSocket subscribe), never `run_not_found`; the transcript closes the cut-off message with an
 * interrupted reply, and the session answers the next message normally.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { RunEvent, RunInfo, SessionHistory, SseParser } from "@workforce/protocol";
import { RUN_JOURNALS_DIR } from "@workforce/protocol/tenant-path";
import type WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startGateway, type GatewayService } from "../../bench/lib/services";
import { jsonRequest } from "../../bench/lib/sse-client";
import { createGatewayAgent, type GatewayTenant } from "../../bench/lib/targets";
import { connectTestSocket } from "../../gateway/src/test-support/ws-test-client";

let dataDir: string;
let port: number;
let gateway: GatewayService;
let tenant: GatewayTenant;
const hookToken = `interrupt-test-${randomUUID()}`;
const sockets: WebSocket[] = [];
let cut: RunInfo;
let queued: RunInfo;

// The offline model, slow enough that the kill lands mid-reply.
const start = () => startGateway({ dataDir, hookToken, port, source: true, env: { WORKFORCE_DEFAULT_MODEL: "offline", OFFLINE_MODEL_DELAY_MS: "150" } });

async function history(): Promise<SessionHistory> {
  const answer = await jsonRequest(`${gateway.url}/v1/agents/${tenant.slug}/sessions/cut`, "GET", tenant.headers);
  return SessionHistory.parse(answer.body);
}

async function send(message: string): Promise<RunInfo> {
  const answer = await jsonRequest(`${gateway.url}/v1/agents/${tenant.slug}/runs`, "POST", tenant.headers, { message, sessionKey: "cut" });
  expect(answer.status).toBe(202);
  return RunInfo.parse(answer.body);
}

/** Reads a run's event stream until it ends (or the gateway drops the connection). */
async function events(runId: string, after = 0): Promise<RunEvent[]> {
  const response = await fetch(`${gateway.url}/v1/runs/${runId}/events?after=${after}`, { headers: tenant.headers });
  expect(response.status).toBe(200);
  const parser = new SseParser();
  const seen: RunEvent[] = [];
  try {
    for await (const chunk of response.body!) for (const message of parser.push(Buffer.from(chunk).toString())) seen.push(RunEvent.parse(JSON.parse(message.data)));
  } catch {
    // the connection died with the gateway
  }
  return seen;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-run-interrupted-"));
  port = await freePort();
  gateway = await start();
  tenant = await createGatewayAgent(gateway.url, hookToken, "Interrupt Test");
  cut = await send("tell me a long story");
  queued = await send("and another one");
  // Follow the executing run until its reply is streaming and its message is on disk, then kill.
  const following = events(cut.runId);
  for (;;) {
    const entries = (await history()).entries;
    if (entries.some((entry) => entry.type === "user")) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await gateway.kill();
  const before = await following;
  expect(before.some((event) => event.type === "run-end")).toBe(false);
  gateway = await start();
}, 120_000);

afterAll(async () => {
  for (const socket of sockets) socket.terminate();
  await gateway?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("a gateway killed mid-run, then restarted", () => {
  it("answers both runs it left behind (executing and queued) as ended run_interrupted", async () => {
    for (const run of [cut, queued]) {
      const info = await jsonRequest(`${gateway.url}/v1/runs/${run.runId}`, "GET", tenant.headers);
      expect(info).toMatchObject({ status: 200, body: { runId: run.runId, status: "error", sessionKey: "cut" } });
      const replay = await events(run.runId);
      expect(replay.map((event) => event.type)).toEqual(["run-start", "run-end"]);
      expect(replay.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "run_interrupted" } });
      // A follower resuming after what it saw before the kill still gets the end.
      const resumed = await events(run.runId, 7);
      expect(resumed).toEqual([expect.objectContaining({ type: "run-end", seq: 8, error: expect.objectContaining({ code: "run_interrupted" }) })]);
    }
  });

  it("ends the run for a WebSocket subscriber too", async () => {
    const client = connectTestSocket(`ws://127.0.0.1:${port}/v1/ws`, { authorization: `Bearer ${hookToken}`, "x-tenant-id": tenant.tenantId }, sockets);
    await client.opened;
    client.request("1", "runs.subscribe", { runId: cut.runId });
    const answered = await client.until((all) => all.some((frame) => frame.id === "1"));
    expect(answered.find((frame) => frame.id === "1")).toMatchObject({ ok: true, payload: { status: "error" } });
    const frames = await client.until((all) => all.some((frame) => frame.event === "run-end"));
    expect(frames.find((frame) => frame.event === "run-end")?.payload).toMatchObject({ status: "error", error: { code: "run_interrupted" } });
  });

  it("closes the cut-off message in the transcript with an interrupted reply, and the registry counts it", async () => {
    const { entries, session } = await history();
    expect(entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
    expect(entries[1]).toMatchObject({ runId: cut.runId, parentId: entries[0]!.id, stopReason: "interrupted", interrupted: { code: "run_interrupted" } });
    expect(session.messageCount).toBe(2);
  });

  it("takes the next message normally: a reply follows, the transcript alternates user and assistant", async () => {
    const next = await send("are you back?");
    const streamed = await events(next.runId);
    expect(streamed.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const { entries, session } = await history();
    expect(entries.map((entry) => entry.type)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(entries[2]).toMatchObject({ runId: next.runId, parentId: entries[1]!.id });
    expect(entries[3]).toMatchObject({ runId: next.runId });
    expect(entries[3]).not.toHaveProperty("interrupted");
    expect(session.messageCount).toBe(4);
  });

  it("leaves only the running process's own run journal behind", async () => {
    const journals = await readdir(path.join(dataDir, RUN_JOURNALS_DIR));
    expect(journals.length).toBeLessThanOrEqual(1);
  });
});
