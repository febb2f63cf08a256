import path from "node:path";
import { ApiErrorBody, RunEvent, RunInfo, WS_SHARED_TENANTS_PROTOCOL, WsServerFrame } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { makeReadOnly } from "../../test-support/read-only-dir";
import { readRunEvents, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../../test-support/test-gateway";
import { connectTestSocket } from "../../test-support/ws-test-client";
import { startServer, type RunningServer } from "../start-server";

let harness: TestGateway | undefined;
const restores: (() => Promise<void>)[] = [];
let server: RunningServer | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const restore of restores.splice(0)) await restore();
  await server?.close();
  await harness?.cleanup();
  harness = undefined;
  server = undefined;
});

async function start(overrides: Parameters<typeof startTestGateway>[0] = {}) {
  // Real sockets report their address (the default); in-process requests (createAgent) have none.
  harness = await startTestGateway({ hookToken: "ws-token", ...overrides });
  await harness.createAgent(TENANT_A);
  server = await startServer(harness.gateway.app, 0, "127.0.0.1", (request, socket, head) => harness!.gateway.websocket.handleUpgrade(request, socket, head));
  return server.url.replace("http", "ws");
}

const connect = (url: string, headers: Record<string, string>, protocols: string[] = []) => connectTestSocket(`${url}/v1/ws`, headers, sockets, protocols);

/** Status and error body of a refused upgrade. */
function upgradeRefusal(url: string, headers: Record<string, string>): Promise<{ status: number; body: ApiErrorBody }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    sockets.push(socket);
    socket.once("open", () => reject(new Error("the upgrade was accepted")));
    socket.once("error", () => undefined);
    socket.once("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: ApiErrorBody.parse(JSON.parse(Buffer.concat(chunks).toString("utf8"))) }));
    });
  });
}

describe("WebSocket /v1/ws", () => {
  it("answers requests and streams run events as frames, tenant bound at connect", async () => {
    const url = await start();
    const client = connect(url, { authorization: "Bearer ws-token", "x-tenant-id": TENANT_A });
    await client.opened;
    client.request("1", "agents.list");
    client.request("2", "chat.send", { agent: "ada", message: "Who are you?", sessionKey: "ws" });
    const frames = await client.until((all) => all.some((frame) => frame.event === "run-end"));
    expect(frames.find((frame) => frame.id === "1")).toMatchObject({ type: "res", ok: true, payload: { agents: [{ slug: "ada" }] } });
    const sent = frames.find((frame) => frame.id === "2");
    expect(sent).toMatchObject({ type: "res", ok: true, payload: { sessionKey: "ws" } });
    const events = frames.filter((frame) => frame.type === "event");
    expect(events.map((frame) => frame.seq)).toEqual(events.map((_, index) => index + 1));
    const runEvents = events.map((frame) => RunEvent.parse(frame.payload));
    expect(runEvents.flatMap((event) => (event.type === "text-delta" ? [event.delta] : [])).join("")).toContain("I'm Ada");
    expect(frames.indexOf(sent!)).toBeLessThan(frames.indexOf(events[0]!));

    client.request("3", "sessions.history", { agent: "ada", sessionKey: "ws" });
    client.request("4", "nope.method");
    client.request("5", "chat.send", { agent: "../etc", message: "x" });
    const later = await client.until((all) => ["3", "4", "5"].every((id) => all.some((frame) => frame.id === id)));
    expect(later.find((frame) => frame.id === "3")).toMatchObject({ ok: true });
    expect(later.find((frame) => frame.id === "4")).toMatchObject({ ok: false, error: { code: "not_found" } });
    expect(later.find((frame) => frame.id === "5")).toMatchObject({ ok: false, error: { code: "validation_failed" } });
  });

  it("refuses connections without a valid token or tenant, and hides other tenants' runs", async () => {
    const url = await start();
    await expect(connect(url, { "x-tenant-id": TENANT_A }).opened).rejects.toThrow("401");
    await expect(connect(url, { authorization: "Bearer ws-token", "x-tenant-id": "nope" }).opened).rejects.toThrow("400");
    const a = connect(url, { authorization: "Bearer ws-token", "x-tenant-id": TENANT_A });
    await a.opened;
    a.request("1", "chat.send", { agent: "ada", message: "hi" });
    const [sent] = (await a.until((all) => all.some((frame) => frame.id === "1"))).filter((frame) => frame.id === "1");
    const runId = (sent!.payload as { runId: string }).runId;
    const b = connect(`${url}`, { "x-clawdbot-token": "ws-token", "x-tenant-id": TENANT_B });
    await b.opened;
    b.request("x", "runs.subscribe", { runId });
    const frames = await b.until((all) => all.some((frame) => frame.id === "x"));
    expect(frames[0]).toMatchObject({ ok: false, error: { code: "run_not_found" } });
  });

  it("carries several tenants over one shared connection (its subprotocol): each frame names its tenant, each event its run's", async () => {
    const url = await start();
    await harness!.createAgent(TENANT_B);
    await expect(connect(url, {}, [WS_SHARED_TENANTS_PROTOCOL]).opened).rejects.toThrow("401");
    const shared = connect(url, { authorization: "Bearer ws-token" }, [WS_SHARED_TENANTS_PROTOCOL]);
    await shared.opened;
    expect(shared.socket.protocol).toBe(WS_SHARED_TENANTS_PROTOCOL);
    shared.request("a", "chat.send", { agent: "ada", message: "Who are you?" }, { tenant: TENANT_A });
    shared.request("b", "chat.send", { agent: "ada", message: "Who are you?" }, { tenant: TENANT_B });
    const frames = await shared.until((all) => all.filter((frame) => frame.event === "run-end").length === 2);
    const runOf = (id: string) => RunInfo.parse(frames.find((frame) => frame.id === id)!.payload).runId;
    const tenantOfRun = new Map([
      [runOf("a"), TENANT_A],
      [runOf("b"), TENANT_B],
    ]);
    const events = frames.filter((frame) => frame.type === "event");
    expect(events.length).toBeGreaterThan(4);
    for (const frame of events) expect(frame.tenant).toBe(tenantOfRun.get(RunEvent.parse(frame.payload).runId));

    // A tenant still sees only its own runs; a frame must name a valid tenant.
    shared.request("x", "runs.subscribe", { runId: runOf("a") }, { tenant: TENANT_B });
    shared.request("n", "agents.list");
    shared.request("i", "agents.list", undefined, { tenant: "nope" });
    shared.request("l", "agents.list", undefined, { tenant: TENANT_B });
    const answers = await shared.until((all) => ["x", "n", "i", "l"].every((id) => all.some((frame) => frame.id === id)));
    expect(answers.find((frame) => frame.id === "x")).toMatchObject({ ok: false, error: { code: "run_not_found" } });
    expect(answers.find((frame) => frame.id === "n")).toMatchObject({ ok: false, error: { code: "tenant_required" } });
    expect(answers.find((frame) => frame.id === "i")).toMatchObject({ ok: false, error: { code: "invalid_tenant_id" } });
    expect(answers.find((frame) => frame.id === "l")).toMatchObject({ ok: true, payload: { agents: [{ slug: "ada" }] } });

    // A connection bound to a tenant may not speak for another.
    const bound = connect(url, { authorization: "Bearer ws-token", "x-tenant-id": TENANT_A });
    await bound.opened;
    expect(bound.socket.protocol).toBe("");
    bound.request("f", "agents.list", undefined, { tenant: TENANT_B });
    expect((await bound.until((all) => all.some((frame) => frame.id === "f")))[0]).toMatchObject({ ok: false, error: { code: "forbidden" } });
  });

  it("aborts a session's active and queued runs with sessions.abort", async () => {
    const url = await start({ config: { offlineTokenDelayMs: 20 } });
    const client = connect(url, { authorization: "Bearer ws-token", "x-tenant-id": TENANT_A });
    await client.opened;
    client.request("1", "chat.send", { agent: "ada", message: "Who are you?", sessionKey: "busy" });
    client.request("2", "chat.send", { agent: "ada", message: "and then?", sessionKey: "busy" });
    await client.until((all) => all.some((frame) => frame.event === "text-delta"));
    client.request("3", "sessions.abort", { agent: "ada", sessionKey: "busy" });
    client.request("4", "sessions.abort", { agent: "ada", sessionKey: "nobody" });
    const frames = await client.until((all) => all.filter((frame) => frame.event === "run-end").length === 2 && all.some((frame) => frame.id === "4"));
    for (const frame of frames) WsServerFrame.parse(frame);
    const runIds = ["1", "2"].map((id) => RunInfo.parse(frames.find((frame) => frame.id === id)!.payload).runId);
    const aborted = (frames.find((frame) => frame.id === "3")!.payload as { aborted: unknown[] }).aborted.map((info) => RunInfo.parse(info).runId);
    expect(aborted.sort()).toEqual([...runIds].sort());
    const ends = frames.filter((frame) => frame.event === "run-end").map((frame) => RunEvent.parse(frame.payload));
    expect(ends.map((event) => (event.type === "run-end" ? event.status : ""))).toEqual(["aborted", "aborted"]);
    expect(frames.find((frame) => frame.id === "4")).toMatchObject({ ok: false, error: { code: "session_not_found" } });
  });

  it("rate-limits failed authentications per address across WebSocket and HTTP alike, never the valid token", async () => {
    const url = await start({ authFailureLimits: { maxFailures: 3, windowMs: 60_000 } });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await expect(connect(url, { authorization: "Bearer wrong", "x-tenant-id": TENANT_A }).opened).rejects.toThrow("401");
    }
    const http = `${url.replace("ws", "http")}/v1/agents`;
    expect((await fetch(http, { headers: { authorization: "Bearer wrong", "x-tenant-id": TENANT_A } })).status).toBe(401);
    // The third failure (over HTTP) used up the allowance for both ways in, for wrong and missing tokens.
    await expect(connect(url, { authorization: "Bearer wrong", "x-tenant-id": TENANT_A }).opened).rejects.toThrow("429");
    await expect(connect(url, { "x-tenant-id": TENANT_A }).opened).rejects.toThrow("429");
    const limited = await fetch(http, { headers: { authorization: "Bearer wrong", "x-tenant-id": TENANT_A } });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    // The platform behind the same proxy address still gets in: the valid token is never limited.
    const platform = connect(url, { authorization: "Bearer ws-token", "x-tenant-id": TENANT_A });
    await platform.opened;
    platform.request("1", "agents.list");
    expect((await platform.until((all) => all.some((frame) => frame.id === "1")))[0]).toMatchObject({ ok: true, payload: { agents: [{ slug: "ada" }] } });
    expect((await fetch(http, { headers: { "x-clawdbot-token": "ws-token", "x-tenant-id": TENANT_A } })).status).toBe(200);
  });

  it("answers a new chat on a read-only tenant directory with the storage code HTTP gives, not internal_error", async () => {
    const url = await start();
    const before = await harness!.request("POST", "/v1/agents/ada/runs", { body: { message: "hello", sessionKey: "before" }, headers: { accept: "text/event-stream" } });
    expect((await readRunEvents(before)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    await harness!.gateway.metering.flush(); // the run's usage line is written just after its end
    const readOnly = await makeReadOnly(path.join(harness!.dataDir, TENANT_A));
    restores.push(readOnly.restore);
    const http = await harness!.request("POST", "/v1/agents/ada/runs", { body: { message: "hello", sessionKey: "over-http" } });
    expect({ status: http.status, code: ApiErrorBody.parse(await http.json()).error.code }).toEqual({ status: 503, code: readOnly.code });
    const client = connect(url, { authorization: "Bearer ws-token", "x-tenant-id": TENANT_A });
    await client.opened;
    client.request("1", "chat.send", { agent: "ada", message: "hello", sessionKey: "fresh" });
    client.request("2", "chat.send", { agent: "ada", message: "hello again", sessionKey: "other", idempotencyKey: "k1", actor: { userId: "user-1" } });
    const frames = await client.until((all) => ["1", "2"].every((id) => all.some((frame) => frame.id === id)));
    for (const id of ["1", "2"]) expect(frames.find((frame) => frame.id === id)).toMatchObject({ ok: false, error: { code: readOnly.code } });
  });

  it("takes the token only from a header, never from the URL, and trims X-Tenant-ID", async () => {
    const url = await start();
    const refused = await upgradeRefusal(`${url}/v1/ws?token=ws-token`, { "x-tenant-id": TENANT_A });
    expect(refused.status).toBe(401);
    expect(refused.body.error.code).toBe("unauthorized");
    expect(refused.body.error.message).toContain("Authorization: Bearer");

    const padded = connect(url, { "x-clawdbot-token": "ws-token", "x-tenant-id": `  ${TENANT_A}\t` });
    await padded.opened;
    padded.request("1", "agents.list");
    expect((await padded.until((all) => all.some((frame) => frame.id === "1")))[0]).toMatchObject({ ok: true, payload: { agents: [{ slug: "ada" }] } });
  });
});
