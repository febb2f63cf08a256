import { GatewayHealth, GatewayHealthSummary } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { startTestGateway, TENANT_A, type TestGateway } from "../../test-support/test-gateway";
import { startServer, type RunningServer } from "../start-server";

let harness: TestGateway | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  await harness?.cleanup();
  harness = undefined;
  server = undefined;
});

const TOKEN = "health-test-token";

async function start(overrides: Parameters<typeof startTestGateway>[0] = {}): Promise<string> {
  harness = await startTestGateway(overrides);
  server = await startServer(harness.gateway.app, 0, "127.0.0.1");
  return `${server.url}/`;
}

async function health(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: (await response.json()) };
}

/** What must never reach a stranger: where the data lives, what it is, and what runs. */
function expectNothingInternal(body: unknown): void {
  expect(GatewayHealthSummary.strict().parse(body)).toEqual({ status: "ok" });
  const text = JSON.stringify(body);
  for (const secret of [harness!.dataDir, harness!.instanceId, "offline", "version"]) expect(text).not.toContain(secret);
}

describe("GET / over a real socket", () => {
  it("gives a caller on this host the details, and a caller a local proxy relays only the status", async () => {
    const url = await start({ hookToken: TOKEN });
    const local = await health(url);
    expect(local.status).toBe(200);
    expect(GatewayHealth.parse(local.body).dataDir).toEqual({ path: harness!.dataDir, instanceId: harness!.instanceId });

    for (const relayed of [{ "x-forwarded-for": "203.0.113.7" }, { forwarded: "for=203.0.113.7" }, { "x-real-ip": "203.0.113.7" }] as Record<string, string>[]) {
      const stranger = await health(url, relayed);
      expect(stranger.status).toBe(200);
      expectNothingInternal(stranger.body);
      // A wrong token buys nothing either: it is refused.
      const guessed = await health(url, { ...relayed, authorization: "Bearer guess" });
      expect(guessed).toEqual({ status: 401, body: { error: { code: "invalid_token", message: "the gateway token is wrong" } } });
    }
  });

  it("gives the details to the holder of the hook token, wherever the request comes from", async () => {
    const url = await start({ hookToken: TOKEN });
    for (const auth of [{ authorization: `Bearer ${TOKEN}` }, { "x-clawdbot-token": TOKEN }] as Record<string, string>[]) {
      const answer = await health(url, { ...auth, "x-forwarded-for": "203.0.113.7" });
      expect(answer.status).toBe(200);
      expect(GatewayHealth.parse(answer.body)).toMatchObject({ status: "ok", service: "gateway", dataDir: { path: harness!.dataDir, instanceId: harness!.instanceId } });
    }
  });

  it("counts a wrong token on GET / like any failed authentication", async () => {
    const url = await start({ hookToken: TOKEN, authFailureLimits: { maxFailures: 2, windowMs: 60_000 } });
    for (let attempt = 0; attempt < 2; attempt += 1) expect((await health(url, { authorization: "Bearer guess", "x-forwarded-for": "203.0.113.7" })).status).toBe(401);
    const limited = await fetch(url.replace(/\/$/, "/v1/agents"), { headers: { authorization: "Bearer guess", "x-tenant-id": TENANT_A } });
    expect(limited.status).toBe(429);
  });

  it("refuses a wrong token even from this host, so a misconfigured platform hears it at once", async () => {
    const url = await start({ hookToken: TOKEN });
    const answer = await health(url, { authorization: "Bearer not-the-token" });
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual({ error: { code: "invalid_token", message: "the gateway token is wrong" } });
  });

  it("without a hook token (loopback only), behaves as before for callers on this host", async () => {
    const url = await start();
    expect(GatewayHealth.parse((await health(url)).body).dataDir.instanceId).toBe(harness!.instanceId);
    expectNothingInternal((await health(url, { "x-forwarded-for": "203.0.113.7" })).body);
  });

  it("answers a caller from another address with the status only", async () => {
    // A request over the socket whose peer is not loopback: the gateway reads the real peer
    // address, so a client bound to a non-loopback local address would be such a caller. The
    // address is injected here so the test does not depend on the machine's interfaces.
    const url = await start({ hookToken: TOKEN, clientAddress: () => "203.0.113.7" });
    expectNothingInternal((await health(url)).body);
    expect(GatewayHealth.parse((await health(url, { authorization: `Bearer ${TOKEN}` })).body).dataDir.path).toBe(harness!.dataDir);
  });
});
