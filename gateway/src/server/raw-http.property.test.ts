import net from "node:net";
import { ApiErrorBody, ERROR_CODES } from "@workforce/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzParameters, HOSTILE_PIECES } from "../test-support/fuzz";
import { startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { startServer, type RunningServer } from "./start-server";

/**
 * Raw bytes on a real socket: what reaches the gateway before (and despite) the HTTP parser.
 * Malformed request heads, oversized and duplicated headers, CR/LF and NUL in values: never a
 * 5xx, and every error is the JSON shape, also when Node's parser is the one refusing.
 */
const TOKEN = "raw-http-token";
let h: TestGateway;
let server: RunningServer;

beforeAll(async () => {
  h = await startTestGateway({ hookToken: TOKEN, authFailureLimits: { maxFailures: 1_000_000, windowMs: 60_000 } });
  server = await startServer(h.gateway.app, 0, "127.0.0.1", (request, socket, head) => h.gateway.websocket.handleUpgrade(request, socket, head));
});
afterAll(async () => {
  await server.close();
  await h.cleanup();
});

/**
 * Sends the bytes and reads until the server closes (requests carry `connection: close`). A request
 * the server is still waiting on (say, a promised body that never comes) gets end-of-stream after
 * a moment; ending at once would make Node drop answers that are still being computed.
 */
function exchange(data: Buffer, hangUpAfterMs = 400): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(server.address.port, "127.0.0.1", () => socket.write(data));
    const hangUp = setTimeout(() => socket.end(), hangUpAfterMs);
    socket.on("data", (chunk: Buffer) => {
      clearTimeout(hangUp);
      chunks.push(chunk);
    });
    socket.on("close", () => resolve(Buffer.concat(chunks)));
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? resolve(Buffer.concat(chunks)) : reject(error)));
    socket.setTimeout(5_000, () => socket.destroy(new Error("no answer within 5 s")));
  });
}

function parseResponse(raw: Buffer): { status: number; headers: Record<string, string>; body: string } {
  const text = raw.toString("latin1");
  const end = text.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = text.slice(0, end < 0 ? undefined : end).split("\r\n");
  const headers = Object.fromEntries(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
  let body = end < 0 ? "" : text.slice(end + 4);
  if (headers["transfer-encoding"] === "chunked") {
    let decoded = "";
    for (;;) {
      const lineEnd = body.indexOf("\r\n");
      const size = parseInt(body.slice(0, lineEnd), 16);
      if (!size) break;
      decoded += body.slice(lineEnd + 2, lineEnd + 2 + size);
      body = body.slice(lineEnd + 2 + size + 2);
    }
    body = decoded;
  }
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: Buffer.from(body, "latin1").toString("utf8") };
}

function expectJsonError(response: ReturnType<typeof parseResponse>, context: string): void {
  expect(response.status, `${context}: status`).toBeGreaterThanOrEqual(400);
  expect(response.status, `${context}: status`).toBeLessThan(500);
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    throw new Error(`${context}: ${response.status} with a non-JSON body ${JSON.stringify(response.body.slice(0, 200))}`);
  }
  const parsed = ApiErrorBody.safeParse(body);
  expect(parsed.success, `${context}: ${response.body.slice(0, 200)}`).toBe(true);
  if (parsed.success) expect(ERROR_CODES as readonly string[]).toContain(parsed.data.error.code);
}

const baseHeaders = [`host: gateway`, `authorization: Bearer ${TOKEN}`, `x-tenant-id: ${TENANT_A}`, "connection: close"];
const head = (requestLine: string, headers: string[], body = "") => Buffer.from(`${requestLine}\r\n${headers.join("\r\n")}\r\n\r\n${body}`, "latin1");

describe("raw HTTP on the gateway's socket", () => {
  it("answers what Node's parser refuses with the JSON error shape", async () => {
    const cases: [string, Buffer, number, string][] = [
      ["oversized header", head("GET /v1/agents HTTP/1.1", [...baseHeaders, `x-big: ${"x".repeat(20_000)}`]), 431, "payload_too_large"],
      ["header line without a colon", head("GET /v1/agents HTTP/1.1", [...baseHeaders, "not a header"]), 400, "validation_failed"],
      ["NUL in a header value", head("GET /v1/agents HTTP/1.1", [...baseHeaders, "x-tenant-id: a\u0000b"]), 400, "validation_failed"],
      ["content-length and chunked together", head("POST /v1/agents HTTP/1.1", [...baseHeaders, "content-length: 5", "transfer-encoding: chunked"], "0\r\n\r\n"), 400, "validation_failed"],
      ["two content-lengths", head("POST /v1/agents HTTP/1.1", [...baseHeaders, "content-length: 2", "content-length: 3"], "{}"), 400, "validation_failed"],
      ["garbage request line", Buffer.from("\u0001\u0002 / HTTP/9.9\r\n\r\n", "latin1"), 400, "validation_failed"],
      ["a path with a backslash", head("GET /v1/agents/..\\..\\etc HTTP/1.1", baseHeaders), 400, "validation_failed"],
      ["no Host header", head("GET /v1/agents HTTP/1.1", baseHeaders.filter((line) => !line.startsWith("host:"))), 400, "validation_failed"],
      ["a body cut short", head("POST /v1/agents HTTP/1.1", [...baseHeaders, "content-type: application/json", "content-length: 100"], '{"name":'), 400, "validation_failed"],
      ["a chunked body cut short", head("DELETE /v1/agents/ada HTTP/1.1", [...baseHeaders, "transfer-encoding: chunked"], "5\r\nab"), 400, "validation_failed"],
    ];
    for (const [name, data, status, code] of cases) {
      // Only the cut-short bodies need the hang-up; the rest are answered as soon as they are parsed.
      const response = parseResponse(await exchange(data, name.includes("cut short") ? 300 : 10_000));
      expect({ name, status: response.status }).toEqual({ name, status });
      expectJsonError(response, name);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code } });
    }
  });

  it("never answers fuzzed request heads with a 5xx or a non-JSON error", async () => {
    const token = fc.oneof(fc.stringMatching(/^[!-~]{1,20}$/), fc.constantFrom(...HOSTILE_PIECES.map((piece) => piece.slice(0, 50))));
    const headerLine = fc.oneof(
      { weight: 3, arbitrary: fc.tuple(fc.constantFrom("x-tenant-id", "authorization", "x-clawdbot-token", "x-session-key", "content-length", "transfer-encoding", "accept", "last-event-id", "host", "x-tenant-id"), token).map(([name, value]) => `${name}: ${value}`) },
      { weight: 1, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 60 }) },
      { weight: 1, arbitrary: fc.constantFrom("x-a: b\r\nx-tenant-id: 22222222-2222-4222-8222-222222222222", ": empty-name", "x-folded: a\r\n b", `x-long: ${"y".repeat(17_000)}`) },
    );
    const target = fc.oneof(
      fc.constantFrom("/v1/agents", "/v1/agents/ada", "/v1/runs/x", "/", "*", "http://evil.example/v1/agents", "/v1/agents?x=%zz", "/%2e%2e/%2e%2e/etc/passwd", "//v1//agents"),
      token.map((value) => `/v1/agents/${value}`),
    );
    const request = fc.record({
      method: fc.constantFrom("GET", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "BREW", "get"),
      target,
      version: fc.constantFrom("HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1 extra", ""),
      headers: fc.array(headerLine, { maxLength: 5 }),
      body: fc.constantFrom("", "{}", '{"name":"A","role":"B"}', "{", "\u0000"),
      keepBase: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(request, async (input) => {
        const headers = [...(input.keepBase ? baseHeaders : ["host: gateway", "connection: close"]), ...input.headers];
        const data = head(`${input.method} ${input.target} ${input.version}`.trimEnd(), headers, input.body);
        const raw = await exchange(data);
        if (raw.length === 0) return; // the socket was dropped without an answer: nothing to judge
        const response = parseResponse(raw);
        const context = JSON.stringify(data.toString("latin1").slice(0, 300));
        expect(response.status, context).toBeGreaterThanOrEqual(100);
        expect(response.status, context).toBeLessThan(500);
        if (response.status >= 400 && input.method !== "HEAD") expectJsonError(response, context);
      }),
      fuzzParameters(150),
    );
  });
});
