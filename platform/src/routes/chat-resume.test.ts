import { withSystem } from "../db/scopes";
import { RunEvent, SseParser } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";

const REPLY = "The quick brown fox jumps over the lazy dog while the platform keeps every token exactly once.";

let gateway: FakeGateway;
let first: TestPlatform;
let second: TestPlatform;
let ada: { token: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: REPLY, eventDelayMs: 15 });
  first = await createTestPlatform({ gatewayUrl: gateway.url, parts: { heartbeatMs: 5 } });
  second = await createTestPlatform({ gatewayUrl: gateway.url, database: first.database });
  ada = await signUp(first, "ada@example.com");
  await caller(first)("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } });
});
afterAll(async () => {
  await second.close();
  await first.close();
  await gateway.close();
});

/** Reads events until `stopAfter` of them arrived (then drops the connection) or the stream ends. */
async function readUntil(response: Response, stopAfter = Infinity): Promise<{ events: RunEvent[]; raw: string }> {
  const reader = response.body!.getReader();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: RunEvent[] = [];
  let raw = "";
  while (events.length < stopAfter) {
    const { done, value } = await reader.read();
    if (done) break;
    const text = decoder.decode(value, { stream: true });
    raw += text;
    for (const message of parser.push(text)) events.push(RunEvent.parse(JSON.parse(message.data)));
  }
  await reader.cancel();
  return { events, raw };
}

const textOf = (events: RunEvent[]) => events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("");

describe("resumable chat streams", () => {
  it("resumes a dropped stream through another platform instance without loss or duplication", async () => {
    const response = await caller(first)("POST", "/api/agents/ada/messages", { token: ada.token, body: { message: "Tell me" } });
    const runId = response.headers.get("x-run-id")!;
    const head = await readUntil(response, 4);
    expect(head.events.length).toBeGreaterThanOrEqual(4);
    const lastSeq = head.events.at(-1)!.seq;

    const resumed = await caller(second)("GET", `/api/runs/${runId}/events`, { token: ada.token, headers: { "last-event-id": String(lastSeq) } });
    expect(resumed.status).toBe(200);
    const tail = await readUntil(resumed);
    const all = [...head.events, ...tail.events];
    expect(all.map((event) => event.seq)).toEqual(all.map((_, index) => index + 1));
    expect(textOf(all)).toBe(REPLY);
    expect(all.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
  });

  it("keeps the run going when the browser leaves, records its usage once, and sends heartbeats", async () => {
    const response = await caller(first)("POST", "/api/agents/ada/messages", { token: ada.token, body: { message: "Again" } });
    const runId = response.headers.get("x-run-id")!;
    const head = await readUntil(response, 2);
    expect(head.raw).toContain(": heartbeat\n\n");

    const deadline = Date.now() + 5_000;
    let usage: { run_id: string; output_tokens: number; agent_slug: string }[] = [];
    while (Date.now() < deadline) {
      usage = await withSystem(first.database.system, (trx) => trx.selectFrom("usage_events").select(["run_id", "output_tokens", "agent_slug"]).where("run_id", "=", runId).execute());
      if (usage.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(gateway.runs.get(runId)?.done).toBe(true);
    expect(usage).toEqual([{ run_id: runId, output_tokens: REPLY.split(/(?= )/).length, agent_slug: "ada" }]);

    // Resuming after the end replays the rest and does not count usage twice.
    const replay = await readUntil(await caller(second)("GET", `/api/runs/${runId}/events?after=0`, { token: ada.token }));
    expect(textOf(replay.events)).toBe(REPLY);
    const rows = await withSystem(first.database.system, (trx) => trx.selectFrom("usage_events").select("id").where("run_id", "=", runId).execute());
    expect(rows).toHaveLength(1);

    const summary = (await (await caller(first)("GET", "/api/usage?days=7", { token: ada.token })).json()) as {
      totals: { runs: number; outputTokens: number };
      byAgent: { agent: string; runs: number }[];
    };
    expect(summary.totals.runs).toBeGreaterThanOrEqual(1);
    expect(summary.byAgent.map((row) => row.agent)).toEqual(["ada"]);
  });

  it("rejects a malformed Last-Event-ID naming it", async () => {
    const response = await caller(first)("GET", "/api/runs/run-1/events", { token: ada.token, headers: { "last-event-id": "abc" } });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain("Last-Event-ID");
  });
});
