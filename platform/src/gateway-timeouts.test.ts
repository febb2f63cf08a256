/**
 * A gateway that hangs (alive but silent) must not hang the platform's clients: a stream that
 * never starts becomes 503 gateway_unavailable, and a connection that goes silent is dropped so
 * its browsers resume with Last-Event-ID.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AppError } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { createGatewayRunStreams } from "./gateway-run-streams";
import { createStreamHeartbeat, proxySse } from "./sse-proxy";

const tenantId = "11111111-2222-4333-8444-555555555555";
let server: http.Server | undefined;
let sockets: WebSocketServer | undefined;

async function listen(handler: http.RequestListener): Promise<string> {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  for (const client of sockets?.clients ?? []) client.terminate();
  sockets?.close();
  sockets = undefined;
  const open = server;
  server = undefined;
  if (!open) return;
  open.closeAllConnections();
  await new Promise((resolve) => open.close(resolve));
});

const runStart = {
  type: "run-start",
  runId: "run-1",
  seq: 1,
  agent: "ada",
  sessionKey: "s",
  sessionId: "s",
  model: { provider: "offline", id: "offline", offline: true },
  at: new Date().toISOString(),
};

describe("a gateway that stops answering", () => {
  it("turns a stream whose connection is never accepted into 503 gateway_unavailable", async () => {
    const baseUrl = await listen(() => {
      // accept the upgrade request, never answer
    });
    const streams = createGatewayRunStreams({ baseUrl, hookToken: undefined, streamStartTimeoutMs: 200 });
    const started = Date.now();
    const error = await streams.startRun(tenantId, "ada", { message: "hello" }).catch((caught: unknown) => caught);
    streams.close();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("gateway_unavailable");
    expect((error as AppError).status).toBe(503);
    expect((error as AppError).message).toContain("did not answer within 200 ms");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("turns a gateway that is not listening into 503 gateway_unavailable", async () => {
    const baseUrl = await listen(() => undefined);
    server!.close();
    server = undefined;
    const streams = createGatewayRunStreams({ baseUrl, hookToken: undefined });
    const error = await streams.subscribe(tenantId, "run-1", 0).catch((caught: unknown) => caught);
    expect((error as AppError).code).toBe("gateway_unavailable");
    expect((error as AppError).message).toContain("is not reachable");
  });

  it("ends the streams of a connection that goes silent mid-run (no frames, no pongs), after forwarding what arrived", async () => {
    const baseUrl = await listen(() => undefined);
    sockets = new WebSocketServer({ server, autoPong: false });
    sockets.on("connection", (ws) => {
      ws.on("message", (data: Buffer) => {
        const frame = JSON.parse(data.toString("utf8")) as { id: string; tenant: string };
        ws.send(JSON.stringify({ type: "res", id: frame.id, ok: true, payload: { runId: "run-1", agent: "ada", sessionKey: "s", sessionId: "s", status: "running", lastSeq: 0 } }));
        ws.send(JSON.stringify({ type: "event", event: "run-start", payload: runStart, seq: 1, tenant: frame.tenant }));
        // ...and then nothing, not even a pong
      });
    });
    const streams = createGatewayRunStreams({ baseUrl, hookToken: undefined, pingIntervalMs: 50, upstreamIdleMs: 300 });
    const { subscription } = await streams.startRun(tenantId, "ada", { message: "hello" });
    let eventsSent = 0;
    const stats = { open: () => () => undefined, firstToken: () => undefined, eventSent: () => void (eventsSent += 1) };
    const response = proxySse({
      subscription,
      tenantId,
      kind: "start",
      stats,
      heartbeat: createStreamHeartbeat(50),
      startedAt: Date.now(),
      now: () => Date.now(),
    });
    const text = await response.text(); // resolves only because the stream is ended
    expect(text).toContain("event: run-start");
    expect(text).toContain('"runId":"run-1"');
    expect(text).toContain(": heartbeat");
    expect(eventsSent).toBe(1);
    expect(streams.stats().connections).toBe(0);
  });
});
