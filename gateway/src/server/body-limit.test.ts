import net from "node:net";
import { ApiErrorBody } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { startServer, type RunningServer } from "./start-server";

let harness: TestGateway | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  await harness?.cleanup();
  harness = undefined;
  server = undefined;
});

const TOKEN = "body-limit-token";

/** Sends one keep-alive request on a raw socket and collects everything the server writes until it closes the socket. */
function rawExchange(port: number, request: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    // The server may stop reading mid-body and reset: whatever it answered before is the answer.
    socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? undefined : reject(error)));
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("latin1")));
    socket.write(request);
    socket.write(body);
  });
}

describe("an oversized body over a real keep-alive connection", () => {
  it("is answered 413 payload_too_large with Connection: close, the server closes that socket, and the client's next request succeeds", async () => {
    harness = await startTestGateway({ hookToken: TOKEN });
    server = await startServer(harness.gateway.app, 0, "127.0.0.1");
    const body = Buffer.alloc(2 * 1024 * 1024, "a");
    const head =
      `POST /v1/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `X-Tenant-ID: ${TENANT_A}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    // Resolves only once the server closed the socket: a keep-alive answer would leave it open.
    const answer = await rawExchange(server.address.port, head, body);
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
    expect(answer).not.toMatch(/keep-alive/i);
    expect(ApiErrorBody.parse(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).error.code).toBe("payload_too_large");

    // fetch keeps sockets alive between requests: the second request must not land on the closing one.
    const headers = { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_A, "content-type": "application/json" };
    for (let round = 0; round < 3; round += 1) {
      const refused = await fetch(`${server.url}/v1/agents`, { method: "POST", headers, body: body.toString() });
      expect(refused.status).toBe(413);
      expect(refused.headers.get("connection")).toBe("close");
      await refused.text();
      await new Promise((resolve) => setTimeout(resolve, 100 * round));
      const next = await fetch(`${server.url}/v1/agents`, { headers });
      expect(next.status).toBe(200);
    }
  });
});

describe("an oversized body still being uploaded", () => {
  it("is read to its end before the 413 goes out, so a slow client gets the answer instead of a reset", async () => {
    harness = await startTestGateway({ hookToken: TOKEN });
    server = await startServer(harness.gateway.app, 0, "127.0.0.1");
    const body = Buffer.alloc(2 * 1024 * 1024, "a");
    const head =
      `POST /v1/agents HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n` +
      `X-Tenant-ID: ${TENANT_A}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const socket = net.connect(server.address.port, "127.0.0.1");
    const received: Buffer[] = [];
    const errors: string[] = [];
    socket.on("data", (chunk) => received.push(chunk));
    socket.on("error", (error: NodeJS.ErrnoException) => errors.push(error.code ?? error.message));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    await new Promise<void>((resolve) => socket.on("connect", () => resolve()));
    // Half the body, then a pause the server could use to answer and hang up, then the rest.
    await new Promise<void>((resolve) => socket.write(head + body.subarray(0, body.length / 2).toString("latin1"), "latin1", () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(Buffer.concat(received).length).toBe(0);
    await new Promise<void>((resolve) => socket.end(body.subarray(body.length / 2), () => resolve()));
    await closed;
    expect(errors).toEqual([]);
    const answer = Buffer.concat(received).toString("latin1");
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toMatch(/\r\nconnection: close\r\n/i);
  });
});
