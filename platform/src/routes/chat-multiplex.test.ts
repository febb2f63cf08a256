/**
 * Run streams share a few WebSockets to the gateway, whatever their tenant (decision 049): many
 * browser streams, a few gateway connections; a gateway that refuses shared connections gets one per tenant; a resume while the first stream is still being drained gets every later event
 * exactly once; usage is recorded once per run even when batched.
 */
import { withSystem } from "../db/scopes";
import { RunEvent, SseParser, WS_PATH } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHARED_CONNECTIONS } from "../gateway-run-streams";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";

const REPLY = "one two three four five six seven eight nine ten eleven twelve";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let ada: { token: string; tenantId: string };
let bob: { token: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: REPLY, eventDelayMs: 10 });
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  ada = await signUp(platform, "ada-mux@example.com");
  bob = await signUp(platform, "bob-mux@example.com");
  for (const who of [ada, bob]) await call("POST", "/api/agents", { token: who.token, body: { name: "Ada", role: "Analyst" } });
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

async function readUntil(response: Response, stopAfter = Infinity): Promise<RunEvent[]> {
  const reader = response.body!.getReader();
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const events: RunEvent[] = [];
  while (events.length < stopAfter) {
    const { done, value } = await reader.read();
    if (done) break;
    for (const message of parser.push(decoder.decode(value, { stream: true }))) events.push(RunEvent.parse(JSON.parse(message.data)));
  }
  await reader.cancel();
  return events;
}

const send = (who: { token: string }, message: string) => call("POST", "/api/agents/ada/messages", { token: who.token, body: { message } });
const textOf = (events: RunEvent[]) => events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("");
const upgrades = () => gateway.requests.filter((request) => request.path === WS_PATH);

describe("multiplexed run streams", () => {
  it("carries many concurrent streams of several tenants over a few shared gateway connections, each tenant's stream its own", async () => {
    const before = upgrades().length;
    const streams = await Promise.all([...Array(8).keys()].map(async (index) => send(index % 2 === 0 ? ada : bob, `hello ${index}`)));
    const results = await Promise.all(streams.map((response) => readUntil(response)));
    for (const events of results) {
      expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
      expect(textOf(events)).toBe(REPLY);
      expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    }
    const opened = upgrades().slice(before);
    // Shared connections bind no tenant; never more of them than SHARED_CONNECTIONS.
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.length).toBeLessThanOrEqual(SHARED_CONNECTIONS);
    expect(opened.every((request) => request.tenantId === "")).toBe(true);
  });

  it("resumes with Last-Event-ID while the first stream is still open, every event exactly once", async () => {
    const response = await send(ada, "resume me");
    const runId = response.headers.get("x-run-id")!;
    const reader = response.body!.getReader();
    const parser = new SseParser();
    const decoder = new TextDecoder();
    const head: RunEvent[] = [];
    while (head.length < 3) {
      const { value } = await reader.read();
      for (const message of parser.push(decoder.decode(value, { stream: true }))) head.push(RunEvent.parse(JSON.parse(message.data)));
    }
    // The first stream stays open (its run is subscribed on the tenant's connection) while the browser resumes.
    const lastSeq = head.at(-1)!.seq;
    const tail = await readUntil(await call("GET", `/api/runs/${runId}/events`, { token: ada.token, headers: { "last-event-id": String(lastSeq) } }));
    await reader.cancel();
    const all = [...head, ...tail];
    expect(all.map((event) => event.seq)).toEqual(all.map((_, index) => index + 1));
    expect(textOf(all)).toBe(REPLY);

    // A finished run resumed after its last event: an empty stream that ends at once.
    const empty = await readUntil(await call("GET", `/api/runs/${runId}/events`, { token: ada.token, headers: { "last-event-id": String(all.length) } }));
    expect(empty).toEqual([]);
  });

  it("records usage once per run, visible to the usage route right after the stream ends", async () => {
    const events = await readUntil(await send(bob, "count me"));
    const runId = events[0]!.runId;
    const usage = (await (await call("GET", "/api/usage?days=1", { token: bob.token })).json()) as { totals: { runs: number } };
    const rows = await withSystem(platform.database.system, (trx) => trx.selectFrom("usage_events").select(["run_id", "output_tokens"]).where("run_id", "=", runId).execute());
    expect(rows).toEqual([{ run_id: runId, output_tokens: REPLY.split(/(?= )/).length }]);
    expect(usage.totals.runs).toBeGreaterThanOrEqual(5);
  });

  it("answers run_not_found for another tenant's run, over the stream connection", async () => {
    const events = await readUntil(await send(ada, "mine"));
    const response = await call("GET", `/api/runs/${events[0]!.runId}/events`, { token: bob.token });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("run_not_found");
  });

  it("falls back to a connection per tenant with a gateway that refuses shared ones, streams whole", async () => {
    const older = await startFakeGateway({ reply: REPLY, tenantBoundSocketsOnly: true });
    const behind = await createTestPlatform({ gatewayUrl: older.url });
    try {
      const callOlder = caller(behind);
      const carol = await signUp(behind, "carol-mux@example.com");
      const dave = await signUp(behind, "dave-mux@example.com");
      for (const who of [carol, dave]) await callOlder("POST", "/api/agents", { token: who.token, body: { name: "Ada", role: "Analyst" } });
      const results = await Promise.all([carol, dave].map(async (who) => readUntil(await callOlder("POST", "/api/agents/ada/messages", { token: who.token, body: { message: "hello" } }))));
      for (const events of results) expect(textOf(events)).toBe(REPLY);
      const bound = older.requests.filter((request) => request.path === WS_PATH && request.tenantId !== "");
      expect(bound.map((request) => request.tenantId).sort()).toEqual([carol.tenantId, dave.tenantId].sort());
    } finally {
      await behind.close();
      await older.close();
    }
  });
});
