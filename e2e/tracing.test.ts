/**
 * OpenTelemetry tracing of the real services (bundles, env configuration) against a local OTLP/HTTP
 * receiver: a chat through the platform is one trace across both services (the gateway's spans are
 * children of the platform's), the run has its span with its provider, trace ids reach the log
 * lines, and no secret is in any exported body. Without OTEL_EXPORTER_OTLP_ENDPOINT nothing is
 * exported and no line names a trace.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_API_KEY, startGateway, startPlatform, type GatewayService, type PlatformService } from "../bench/lib/services";
import { createPlatformUser, type PlatformUser } from "../bench/lib/targets";

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean>;
  status?: { code: number; message: string };
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
}
interface OtlpBody {
  resourceSpans: {
    resource: { attributes: { key: string; value: OtlpValue }[] };
    scopeSpans: { spans: (Omit<ExportedSpan, "service" | "attributes"> & { attributes: { key: string; value: OtlpValue }[] })[] }[];
  }[];
}

/** A collector in miniature: keeps every POSTed body (raw, for the secret check) and its path and headers. */
class OtlpReceiver {
  readonly bodies: { path: string; authorization: string | undefined; text: string }[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      this.bodies.push({ path: request.url ?? "", authorization: request.headers.authorization, text: Buffer.concat(chunks).toString("utf8") });
      response.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  url = "";

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const address = this.server.address();
    if (!address || typeof address === "string") throw new Error("the receiver has no port");
    this.url = `http://127.0.0.1:${address.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  spans(): ExportedSpan[] {
    return this.bodies.flatMap(({ text }) =>
      (JSON.parse(text) as OtlpBody).resourceSpans.flatMap((resourceSpans) => {
        const service = resourceSpans.resource.attributes.find((attribute) => attribute.key === "service.name")?.value.stringValue ?? "";
        return resourceSpans.scopeSpans.flatMap((scope) =>
          scope.spans.map((span) => ({
            ...span,
            service,
            attributes: Object.fromEntries(span.attributes.map(({ key, value }) => [key, value.stringValue ?? value.boolValue ?? Number(value.intValue ?? value.doubleValue)])),
          })),
        );
      }),
    );
  }

  /** Waits (bounded) until a span matching `predicate` has arrived. */
  async waitFor(predicate: (span: ExportedSpan) => boolean, what: string): Promise<ExportedSpan> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = this.spans().find(predicate);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no ${what} span arrived; got ${this.spans().map((span) => `${span.service}:${span.name}`).join(", ") || "none"}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

const hookToken = `tracing-hook-${randomUUID()}`;
const collectorKey = `collector-key-${randomUUID()}`;
const SERVER = 2;
let receiver: OtlpReceiver;
let fake: FakeUpstream;
let dirs: string[] = [];
let gateway: GatewayService;
let platform: PlatformService;
let user: PlatformUser;

beforeAll(async () => {
  receiver = new OtlpReceiver();
  await receiver.start();
  fake = await startFakeUpstream({ apiKey: FAKE_API_KEY });
  const [dataDir, pgliteDir] = [await mkdtemp(path.join(os.tmpdir(), "wf-tracing-")), await mkdtemp(path.join(os.tmpdir(), "wf-tracing-db-"))];
  dirs = [dataDir, pgliteDir];
  // The base endpoint with a trailing slash and the spec's header list: spans must reach <base>/v1/traces with the header.
  const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: `${receiver.url}/`, OTEL_EXPORTER_OTLP_HEADERS: `authorization=Bearer%20${collectorKey}`, OTEL_BSP_SCHEDULE_DELAY: "200" };
  gateway = await startGateway({ dataDir, fakeUrl: fake.url, hookToken, env: otel });
  platform = await startPlatform({ gatewayUrl: gateway.url, hookToken, dataDir, pgliteDir, env: { ...otel, OTEL_SERVICE_NAME: "workforce-platform" } });
  user = await createPlatformUser(platform.url);
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await gateway?.stop();
  await fake?.close();
  await receiver?.close();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

function logRecords(service: { output(): string }): Record<string, unknown>[] {
  return service
    .output()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("tracing with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("makes a chat one trace: platform request → gateway frame → run, with the provider, and trace ids in the log lines", async () => {
    fake.enqueue({ kind: "text", text: "Traced answer." });
    const requestId = `traced-chat-${randomUUID()}`;
    const chatResponse = await fetch(`${platform.url}/api/agents/${user.slug}/messages`, {
      method: "POST",
      headers: { ...user.headers, "content-type": "application/json", "x-request-id": requestId },
      body: JSON.stringify({ message: "Are you traced?" }),
    });
    expect([chatResponse.status, await chatResponse.text()]).toEqual([200, expect.stringContaining("event: run-end")]);

    const chat = await receiver.waitFor((span) => span.service === "workforce-platform" && span.name === "POST /api/agents/:slug/messages", "platform chat request");
    expect(chat.kind).toBe(SERVER);
    expect(chat.attributes).toMatchObject({
      "http.request.method": "POST",
      "http.route": "/api/agents/:slug/messages",
      "http.response.status_code": 200,
      "workforce.tenant_id": user.tenantId,
    });
    // The caller's X-Request-Id is the span's, so a log search and a trace search meet.
    expect(chat.attributes["workforce.request_id"]).toBe(requestId);

    const run = await receiver.waitFor((span) => span.service === "gateway" && span.name === "run" && span.traceId === chat.traceId, "run");
    expect(run.attributes).toMatchObject({ "workforce.provider": "anthropic", "workforce.tenant_id": user.tenantId, "workforce.run.status": "ok" });
    expect(run.status).toBeUndefined();
    // The run's parent is the gateway's span of the frame (or request) that submitted it, whose parent is the platform's request.
    const submitting = receiver.spans().find((span) => span.spanId === run.parentSpanId);
    expect(submitting?.service).toBe("gateway");
    expect(submitting?.kind).toBe(SERVER);
    expect(submitting?.traceId).toBe(chat.traceId);
    expect(submitting?.parentSpanId).toBe(chat.spanId);

    // The platform's access-log line names the trace and the span.
    expect(logRecords(platform).some((line) => line.msg === "request" && line.traceId === chat.traceId && line.spanId === chat.spanId)).toBe(true);
  });

  it("marks a failed run's span with its error code", async () => {
    // A 400 is not retried by the provider's SDK: the run ends at once with a provider_* code.
    fake.enqueue({ kind: "status", status: 400 });
    const failed = await fetch(`${platform.url}/api/agents/${user.slug}/messages`, {
      method: "POST",
      headers: { ...user.headers, "content-type": "application/json", "x-request-id": `failing-chat-${randomUUID()}` },
      body: JSON.stringify({ message: "Fail, please." }),
    });
    const stream = await failed.text();
    const code = /event: run-end\ndata: .*"code":"([a-z_]+)"/.exec(stream)?.[1];
    expect(code, stream).toMatch(/^provider_/);
    const run = await receiver.waitFor((span) => span.name === "run" && span.attributes["workforce.error_code"] === code, "failed run");
    expect(run.status).toEqual({ code: 2, message: code });
    expect(run.attributes["workforce.run.status"]).toBe("error");
  });

  it("joins the platform's HTTP calls to the gateway's request spans (creating the agent)", async () => {
    const created = await receiver.waitFor((span) => span.service === "workforce-platform" && span.name === "POST /api/agents", "platform create-agent request");
    const gatewaySide = await receiver.waitFor((span) => span.service === "gateway" && span.parentSpanId === created.spanId, "gateway request under create-agent");
    expect(gatewaySide.traceId).toBe(created.traceId);
    expect(gatewaySide.kind).toBe(SERVER);
    expect(gatewaySide.attributes["http.route"]).toMatch(/^\/v1\/agents/);
    expect(gatewaySide.attributes["workforce.tenant_id"]).toBe(user.tenantId);
    // The gateway's access-log line of that request names the same trace and its own span.
    expect(logRecords(gateway).some((line) => line.msg === "request" && line.traceId === created.traceId && line.spanId === gatewaySide.spanId)).toBe(true);
  });

  it("posts to <endpoint>/v1/traces with the configured headers, and no secret is in any exported body", async () => {
    await receiver.waitFor((span) => span.service === "gateway", "gateway");
    expect(receiver.bodies.length).toBeGreaterThan(0);
    expect(new Set(receiver.bodies.map((body) => body.path))).toEqual(new Set(["/v1/traces"]));
    expect(new Set(receiver.bodies.map((body) => body.authorization))).toEqual(new Set([`Bearer ${collectorKey}`]));
    const exported = receiver.bodies.map((body) => body.text).join("\n");
    for (const secret of [hookToken, user.accessToken, "benchmark password 1", FAKE_API_KEY, collectorKey]) expect(exported).not.toContain(secret);
    // Routes are templates, never the raw path (ids, invitation tokens) or a query string.
    expect(exported).not.toContain(`/api/agents/${user.slug}/messages`);
  });
});

describe("tracing without OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("exports nothing and names no trace in the log lines, even for a request that carries a traceparent", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-untraced-"));
    dirs.push(dataDir);
    // Every other tracing variable is set: only the endpoint turns tracing on.
    const untraced = await startGateway({ dataDir, hookToken, env: { OTEL_SERVICE_NAME: "untraced-gateway", OTEL_BSP_SCHEDULE_DELAY: "100", OTEL_EXPORTER_OTLP_HEADERS: "x=y" } });
    try {
      const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
      const response = await fetch(`${untraced.url}/v1/agents`, { headers: { authorization: `Bearer ${hookToken}`, "x-tenant-id": randomUUID(), traceparent } });
      expect(response.status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(receiver.spans().filter((span) => span.service === "untraced-gateway")).toEqual([]);
      const lines = logRecords(untraced);
      expect(lines.some((line) => line.msg === "request")).toBe(true);
      expect(lines.filter((line) => "traceId" in line || "spanId" in line)).toEqual([]);
    } finally {
      await untraced.stop();
    }
  });
});
