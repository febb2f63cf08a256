import { createServer, type AddressInfo, type Socket } from "node:net";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { ModelStreamPart } from "../llm/model-provider";

/** A fake upstream for the whole suite, reset before each test. Read `.current` inside tests. */
export function fakeUpstreamForSuite(): { readonly current: FakeUpstream } {
  let upstream: FakeUpstream | undefined;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ apiKey: "test-key" });
  });
  afterAll(async () => {
    await upstream?.close();
  });
  beforeEach(() => upstream?.reset());
  return {
    get current() {
      if (!upstream) throw new Error("the fake upstream starts in beforeAll");
      return upstream;
    },
  };
}

/** Every part a provider streams, and the error it ended with (undefined if none). */
export async function collectParts(stream: AsyncIterable<ModelStreamPart>): Promise<{ parts: ModelStreamPart[]; error: unknown }> {
  const parts: ModelStreamPart[] = [];
  try {
    for await (const part of stream) parts.push(part);
    return { parts, error: undefined };
  } catch (error) {
    return { parts, error };
  }
}

/**
 * A raw HTTP/1.1 endpoint for what the fake upstream does not do: `reply` is the SSE text sent as
 * a complete 200 response to the first request on each connection, or undefined to never answer.
 */
export async function rawSseEndpoint(reply: string | undefined): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    if (reply === undefined) return;
    socket.once("data", () => {
      socket.end(`HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: ${Buffer.byteLength(reply)}\r\n\r\n${reply}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
