import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClientAddress, normalizeAddress, readClientAddressConfig } from "./client-address";

/** One app, two resolvers: `/direct` trusts no proxy, `/proxied` trusts one. Each answers what it sees. */
function whoAmIApp() {
  const app = new Hono();
  for (const [path, hops] of [
    ["/direct", 0],
    ["/proxied", 1],
  ] as const) {
    const client = createClientAddress({ trustProxyHops: hops });
    app.get(path, (c) => c.json({ address: client.address(c), loopback: client.isLoopback(c) }));
  }
  return app;
}

describe("WORKFORCE_TRUST_PROXY", () => {
  it("defaults to no proxies and accepts a small number of hops", () => {
    expect(readClientAddressConfig({})).toEqual({ ok: true, config: { trustProxyHops: 0 } });
    expect(readClientAddressConfig({ WORKFORCE_TRUST_PROXY: " " })).toEqual({ ok: true, config: { trustProxyHops: 0 } });
    expect(readClientAddressConfig({ WORKFORCE_TRUST_PROXY: "2" })).toEqual({ ok: true, config: { trustProxyHops: 2 } });
  });

  it("names the variable and the fix for anything else", () => {
    for (const value of ["yes", "true", "-1", "1.5", "11"]) {
      const result = readClientAddressConfig({ WORKFORCE_TRUST_PROXY: value });
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.problems).toEqual([expect.stringMatching(new RegExp(`^WORKFORCE_TRUST_PROXY: .*e\\.g\\. WORKFORCE_TRUST_PROXY=1; got "${value.replace(".", "\\.")}"$`))]);
    }
  });
});

describe("client addresses", () => {
  it("normalises what sockets and proxies report", () => {
    expect(normalizeAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(normalizeAddress("::FFFF:c000:0201")).toBe("192.0.2.1");
    expect(normalizeAddress("2001:DB8::1")).toBe("2001:db8::1");
    expect(normalizeAddress("[2001:db8::1]:443")).toBe("2001:db8::1");
    expect(normalizeAddress("fe80::1%eth0")).toBe("fe80::1");
    expect(normalizeAddress(" 192.0.2.1:8080 ")).toBe("192.0.2.1");
    expect(normalizeAddress("not-an-address")).toBe("unknown");
    expect(normalizeAddress(undefined)).toBe("unknown");
  });

  it("calls in-process requests 'unknown' and never loopback, unless a trusted proxy header names the client", async () => {
    const app = whoAmIApp();
    expect(await (await app.request("/direct")).json()).toEqual({ address: "unknown", loopback: false });
    expect(await (await app.request("/direct", { headers: { "x-forwarded-for": "203.0.113.5" } })).json()).toEqual({ address: "unknown", loopback: false });
    expect(await (await app.request("/proxied", { headers: { "x-forwarded-for": "203.0.113.5" } })).json()).toEqual({ address: "203.0.113.5", loopback: false });
    expect(await (await app.request("/proxied")).json()).toEqual({ address: "unknown", loopback: false });
  });
});

describe("client addresses over a real socket", () => {
  let server: ServerType;
  let base: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => {
      server = serve({ fetch: whoAmIApp().fetch, port: 0, hostname: "127.0.0.1" }, () => resolve());
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      if ("closeAllConnections" in server) server.closeAllConnections();
    });
  });

  async function whoAmI(path: string, headers: Record<string, string> = {}): Promise<{ address: string; loopback: boolean }> {
    const response = await fetch(`${base}${path}`, { headers });
    return (await response.json()) as { address: string; loopback: boolean };
  }

  it("takes the peer's address and ignores forwarding headers when no proxy is trusted", async () => {
    expect(await whoAmI("/direct")).toEqual({ address: "127.0.0.1", loopback: true });
    expect(await whoAmI("/direct", { "x-forwarded-for": "198.51.100.7" })).toEqual({ address: "127.0.0.1", loopback: false });
  });

  it("does not take a loopback peer that relays someone else for a local user", async () => {
    expect((await whoAmI("/direct", { forwarded: "for=198.51.100.7" })).loopback).toBe(false);
    expect((await whoAmI("/direct", { "x-real-ip": "198.51.100.7" })).loopback).toBe(false);
  });

  it("with one trusted proxy, takes the entry it appended and ignores what the client forged before it", async () => {
    expect(await whoAmI("/proxied", { "x-forwarded-for": "127.0.0.1, 198.51.100.7" })).toEqual({ address: "198.51.100.7", loopback: false });
    expect(await whoAmI("/proxied", { "x-forwarded-for": "198.51.100.8" })).toEqual({ address: "198.51.100.8", loopback: false });
    // Straight to the platform on this machine, past the proxy: the peer itself.
    expect(await whoAmI("/proxied")).toEqual({ address: "127.0.0.1", loopback: true });
  });
});
