/**
 * The chaos test's balancer behaves like a real one: connections alternate between live
 * backends, a backend that refuses connections is skipped, and a client whose backend dies sees
 * its connection closed.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { freePort } from "../system";
import { startRoundRobinProxy, type RoundRobinProxy } from "./round-robin-proxy";

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A backend answering its own name; `/hang` keeps the response open. */
async function backend(name: string): Promise<{ port: number; server: http.Server }> {
  const server = http.createServer((request, response) => {
    if (request.url === "/hang") {
      response.writeHead(200);
      response.write("open");
      return;
    }
    response.end(name);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(() => new Promise((resolve) => server.close(resolve)));
  return { port: (server.address() as AddressInfo).port, server };
}

async function proxyOver(ports: number[]): Promise<RoundRobinProxy> {
  const proxy = await startRoundRobinProxy(() => ports);
  closers.push(() => proxy.close());
  return proxy;
}

/** One request on a fresh connection (no keep-alive, so each goes through the balancer's choice). */
const fetchName = (url: string) => fetch(url, { headers: { connection: "close" } }).then((response) => response.text());

describe("round-robin balancer of the chaos test", () => {
  it("alternates between backends and skips one that refuses connections", async () => {
    const [a, b] = [await backend("a"), await backend("b")];
    const refusing = await freePort();
    const proxy = await proxyOver([a.port, refusing, b.port]);
    const names = [];
    for (let index = 0; index < 4; index += 1) names.push(await fetchName(proxy.url));
    expect(names.sort()).toEqual(["a", "a", "b", "b"]);
    expect(proxy.stats.refused).toBe(0);
  });

  it("closes the client's connection when its backend goes away, and refuses when none is left", async () => {
    const a = await backend("a");
    const proxy = await proxyOver([a.port]);
    const response = await fetch(`${proxy.url}/hang`);
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("open");
    a.server.closeAllConnections();
    await expect(reader.read()).rejects.toThrow();
    await new Promise<void>((resolve) => a.server.close(() => resolve()));
    await expect(fetchName(proxy.url)).rejects.toThrow();
    expect(proxy.stats.refused).toBe(1);
  });
});
