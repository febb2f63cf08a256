/**
 * Structured logs of the real services (bundles, as production runs them) through real flows:
 * every line is a JSON record, request ids pass from the platform to the gateway and into its
 * provider error lines, and no line ever carries a secret: the hook token (right or wrong), the
 * provider key, a password, a JWT, a refresh token or an API key.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, startPlatform, type GatewayService, type PlatformService } from "../bench/lib/services";

const hookToken = `hook-${randomUUID()}`;
const wrongHookToken = `wrong-hook-${randomUUID()}`;
const providerKey = `sk-ant-redaction-${randomUUID()}`;
const password = `Redaction pass ${randomUUID()}`;
let fake: FakeUpstream;
let dataDir: string;
let pgliteDir: string;
let gateway: GatewayService;
let platform: PlatformService;

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: providerKey, recordRequests: false });
  dataDir = await mkdtemp(path.join(os.tmpdir(), "wf-log-redaction-"));
  pgliteDir = await mkdtemp(path.join(os.tmpdir(), "wf-log-redaction-db-"));
  gateway = await startGateway({ dataDir, hookToken, env: { ANTHROPIC_API_KEY: providerKey, ANTHROPIC_BASE_URL: fake.url } });
  platform = await startPlatform({ gatewayUrl: gateway.url, hookToken, dataDir, pgliteDir });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  await gateway?.stop();
  await fake?.close();
  for (const dir of [dataDir, pgliteDir]) if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

async function call(method: string, url: string, options: { headers?: Record<string, string>; body?: unknown } = {}) {
  const response = await fetch(url, {
    method,
    headers: { ...(options.body === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
}

type LogRecord = Record<string, unknown>;

function records(service: { name: string; output(): string }): LogRecord[] {
  const output = service.output();
  // output() keeps the last 64 KB: the test must see every line it checks.
  expect(output.length, `${service.name} wrote more than the captured 64 KB`).toBeLessThan(65_536);
  return output
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => {
      try {
        return JSON.parse(line) as LogRecord;
      } catch {
        throw new Error(`${service.name} wrote a line that is not JSON: ${line}`);
      }
    });
}

describe("structured logs of the running services", () => {
  it("carry request ids from platform to gateway and never a secret, through sign-up, keys, chat and failures", async () => {
    const email = `redaction-${randomUUID()}@example.com`;
    const signup = await call("POST", `${platform.url}/auth/v1/signup`, { body: { email, password }, headers: { "x-request-id": "signup-1" } });
    expect(signup.status).toBe(200);
    expect(signup.headers.get("x-request-id")).toBe("signup-1");
    const session = signup.json() as { access_token: string; refresh_token: string };
    const signIn = await call("POST", `${platform.url}/auth/v1/token?grant_type=password`, { body: { email, password } });
    expect(signIn.status).toBe(200);
    const wrongPassword = await call("POST", `${platform.url}/auth/v1/token?grant_type=password`, { body: { email, password: `${password} wrong` } });
    expect(wrongPassword.status).toBe(400);

    const bearer = { authorization: `Bearer ${session.access_token}` };
    const me = (await call("GET", `${platform.url}/api/me`, { headers: bearer })).json() as { tenants: Array<{ id: string }> };
    const tenantId = me.tenants[0]!.id;
    const headers = { ...bearer, "x-tenant-id": tenantId };
    expect((await call("POST", `${platform.url}/api/agents`, { headers, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);

    // An API key: created, used, and a wrong one refused.
    const created = await call("POST", `${platform.url}/api/keys`, { headers, body: { name: "ci" } });
    expect(created.status).toBe(201);
    const apiKey = String(created.json().secret);
    expect((await call("GET", `${platform.url}/api/agents`, { headers: { authorization: `Bearer ${apiKey}` } })).status).toBe(200);
    expect((await call("GET", `${platform.url}/api/agents`, { headers: { authorization: `Bearer ${apiKey}x` } })).status).toBe(401);

    // A chat with the provider key against the fake upstream, and one the upstream fails.
    const chat = await call("POST", `${platform.url}/api/agents/ada/messages`, { headers: { ...headers, "x-request-id": "chat-ok" }, body: { message: "Who are you?" } });
    expect(chat.text).toContain("event: run-end");
    const failing = await call("POST", `${platform.url}/api/agents/ada/messages`, {
      headers: { ...headers, "x-request-id": "chat-upstream-error" },
      body: { message: "[[fault:400]] please fail" },
    });
    expect(failing.text).toMatch(/event: run-end[\s\S]*"status":"error"/);

    // The gateway, called with the wrong hook token.
    const refused = await call("GET", `${gateway.url}/v1/agents`, { headers: { authorization: `Bearer ${wrongHookToken}`, "x-tenant-id": tenantId } });
    expect(refused.status).toBe(401);

    await platform.stop();
    await gateway.stop();
    const platformLines = records(platform);
    const gatewayLines = records(gateway);

    // The flows were logged: an access line per request, naming tenant and user once known.
    expect(platformLines).toContainEqual(expect.objectContaining({ service: "platform", msg: "request", route: "/auth/v1/signup", status: 200, requestId: "signup-1" }));
    expect(platformLines).toContainEqual(
      expect.objectContaining({ msg: "request", method: "POST", route: "/api/agents/:slug/messages", status: 200, requestId: "chat-ok", tenantId, userId: expect.any(String), runId: expect.any(String) }),
    );
    expect(gatewayLines).toContainEqual(expect.objectContaining({ service: "gateway", msg: "request", route: "/v1/agents", status: 401 }));
    // The platform's request id reached the gateway's provider error line, with the tenant and run.
    const providerError = gatewayLines.find((line) => line.requestId === "chat-upstream-error" && (line.level === "warn" || line.level === "error"));
    expect(providerError).toMatchObject({ tenantId, runId: expect.any(String) });

    const everything = [...platformLines, ...gatewayLines].map((line) => JSON.stringify(line));
    const secrets = {
      hookToken,
      wrongHookToken,
      providerKey,
      password,
      accessToken: session.access_token,
      signInToken: String(signIn.json().access_token),
      refreshToken: session.refresh_token,
      apiKey,
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(everything.filter((line) => line.includes(secret)), `${name} appears in a log line`).toEqual([]);
    }
  }, 120_000);
});
