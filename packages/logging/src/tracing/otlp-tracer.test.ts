import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import type { Logger } from "../logger";
import { createOtlpTracer } from "./otlp-tracer";

/** A collector that answers `status` (changeable) and keeps what it was sent. */
async function collector(): Promise<{ url: string; status: number; bodies: { headers: Record<string, unknown>; body: string }[]; server: Server }> {
  const state = { url: "", status: 200, bodies: [] as { headers: Record<string, unknown>; body: string }[], server: undefined as unknown as Server };
  state.server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      state.bodies.push({ headers: request.headers, body });
      response.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => state.server.listen(0, "127.0.0.1", resolve));
  const address = state.server.address();
  state.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/v1/traces`;
  return state;
}

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (message) => lines.push(`info ${message}`), warn: (message) => lines.push(`warn ${message}`), error: (message) => lines.push(`error ${message}`) };
}

let servers: Server[] = [];
afterEach(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  servers = [];
});

describe("the OTLP/HTTP JSON exporter", () => {
  it("sends ended spans with parent, kind, attributes and error status, with the configured headers", async () => {
    const target = await collector();
    servers.push(target.server);
    const tracer = createOtlpTracer({ url: target.url, serviceName: "svc", headers: { "x-api-key": "collector-secret" }, scheduleDelayMs: 60_000 }, recordingLogger());
    const parent = tracer.startSpan("GET", { kind: "server" });
    parent.name = "GET /things/:id";
    parent.setAttributes({ "http.response.status_code": 503, skipped: undefined });
    const child = tracer.startSpan("run", { kind: "internal", parent: parent.context });
    child.end("provider_unavailable");
    child.end(); // a second end is ignored
    parent.end();
    await tracer.flush();
    expect(target.bodies).toHaveLength(1);
    expect(target.bodies[0]!.headers["x-api-key"]).toBe("collector-secret");
    expect(target.bodies[0]!.headers["content-type"]).toBe("application/json");
    const sent = JSON.parse(target.bodies[0]!.body) as { resourceSpans: { resource: unknown; scopeSpans: { spans: Record<string, unknown>[] }[] }[] };
    expect(sent.resourceSpans[0]!.resource).toEqual({ attributes: expect.arrayContaining([{ key: "service.name", value: { stringValue: "svc" } }]) });
    const [runSpan, requestSpan] = sent.resourceSpans[0]!.scopeSpans[0]!.spans;
    expect(runSpan).toMatchObject({ name: "run", kind: 1, traceId: parent.context.traceId, parentSpanId: parent.context.spanId, status: { code: 2, message: "provider_unavailable" } });
    expect(requestSpan).toMatchObject({ name: "GET /things/:id", kind: 2, attributes: [{ key: "http.response.status_code", value: { intValue: "503" } }] });
    expect(requestSpan).not.toHaveProperty("parentSpanId");
    expect(BigInt(requestSpan!.endTimeUnixNano as string)).toBeGreaterThanOrEqual(BigInt(requestSpan!.startTimeUnixNano as string));
  });

  it("warns once per outage, never with the headers, and says when exports work again", async () => {
    const target = await collector();
    servers.push(target.server);
    target.status = 503;
    const logger = recordingLogger();
    const tracer = createOtlpTracer({ url: target.url, serviceName: "svc", headers: { authorization: "Bearer collector-secret" }, scheduleDelayMs: 60_000 }, logger);
    for (let batch = 0; batch < 3; batch++) {
      tracer.startSpan("GET /", { kind: "server" }).end();
      await tracer.flush();
    }
    expect(logger.lines).toEqual([expect.stringMatching(/^warn tracing: could not export 1 spans to .* \(the collector answered 503\)$/)]);
    target.status = 200;
    tracer.startSpan("GET /", { kind: "server" }).end();
    await tracer.flush();
    expect(logger.lines.at(-1)).toBe("info tracing: exporting spans again");
    expect(logger.lines.join("\n")).not.toContain("collector-secret");
  });
});
