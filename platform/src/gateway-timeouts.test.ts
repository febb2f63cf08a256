/**
 * A gateway that hangs (alive but silent) must not hang the platform's clients: a stream that
 * never starts becomes 503 gateway_unavailable, and a stream that goes silent is ended so the
 * browser resumes with Last-Event-ID.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { AppError } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createGatewayClient } from "./gateway-client";
import { proxySse } from "./sse-proxy";

const tenantId = "11111111-2222-4333-8444-555555555555";
let server: http.Server | undefined;

async function listen(handler: http.RequestListener): Promise<string> {
  server = http.createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

describe("a gateway that stops answering", () => {
  it("turns a stream whose headers never come into 503 gateway_unavailable", async () => {
    const baseUrl = await listen(() => {
      // accept the request, never answer
    });
    const client = createGatewayClient({ baseUrl, hookToken: undefined, streamStartTimeoutMs: 200 });
    const started = Date.now();
    const error = await client.startRun(tenantId, "ada", { message: "hello" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("gateway_unavailable");
    expect((error as AppError).status).toBe(503);
    expect((error as AppError).message).toContain("did not answer within 200 ms");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("ends a stream that goes silent mid-run, after forwarding what arrived", async () => {
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
    const baseUrl = await listen((_request, response) => {
      response.writeHead(200, { "content-type": "text/event-stream", "x-run-id": "run-1" });
      response.write(`id: 1\nevent: run-start\ndata: ${JSON.stringify(runStart)}\n\n`);
      // ...and then nothing, not even a heartbeat
    });
    const client = createGatewayClient({ baseUrl, hookToken: undefined });
    const upstream = await client.startRun(tenantId, "ada", { message: "hello" });
    let eventsSent = 0;
    const stats = { open: () => () => undefined, firstToken: () => undefined, eventSent: () => void (eventsSent += 1) };
    const response = proxySse({
      upstream,
      tenantId,
      kind: "start",
      stats,
      startedAt: Date.now(),
      now: () => Date.now(),
      heartbeatMs: 50,
      upstreamIdleMs: 300,
    });
    const text = await response.text(); // resolves only because the stream is ended
    expect(text).toContain("event: run-start");
    expect(text).toContain('"runId":"run-1"');
    expect(eventsSent).toBe(1);
  });
});
