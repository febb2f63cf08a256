import { embeddedPublishableKey } from "../auth/publishable-key";
import { withSystem } from "../db/scopes";
import { RunEvent, SseParser, type Agent } from "@workforce/protocol";
import type { StreamStatsSnapshot } from "../stream-stats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { createTestPlatform, errorOf, signUp, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";

let gateway: FakeGateway;
let platform: TestPlatform;
let ada: { token: string; tenantId: string };
let bob: { token: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway({ hookToken: "hook-secret", reply: "I am Ada, your analyst." });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: "hook-secret" });
  ada = await signUp(platform, "ada@example.com");
  bob = await signUp(platform, "bob@example.com");
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

function call(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  return platform.app.request(`${TEST_ORIGIN}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { "content-type": "application/json" }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
}

async function readEvents(response: Response): Promise<{ raw: string; events: RunEvent[] }> {
  const raw = await response.text();
  const events = new SseParser().push(raw).map((message) => RunEvent.parse(JSON.parse(message.data)));
  return { raw, events };
}

describe("/api auth and tenancy", () => {
  it("rejects requests without a token with a 401 JSON error", async () => {
    const response = await call("GET", "/api/agents");
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: "unauthorized", message: expect.stringContaining("Bearer") } });
  });

  it("rejects a garbage token with 401 invalid_token", async () => {
    const response = await call("GET", "/api/me", { token: "not.a.jwt" });
    expect(response.status).toBe(401);
    expect((await errorOf(response)).code).toBe("invalid_token");
  });

  it("forbids an X-Tenant-ID the user is not a member of", async () => {
    const response = await call("GET", "/api/agents", { token: ada.token, headers: { "x-tenant-id": bob.tenantId } });
    expect(response.status).toBe(403);
    expect((await errorOf(response)).code).toBe("forbidden");
    expect(gateway.requests.some((request) => request.tenantId === bob.tenantId && request.path === "/v1/agents")).toBe(false);
  });

  it("rejects a malformed X-Tenant-ID", async () => {
    const response = await call("GET", "/api/agents", { token: ada.token, headers: { "x-tenant-id": "../etc" } });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_tenant_id");
  });

  it("answers unknown /api routes with 404 JSON", async () => {
    const response = await call("GET", "/api/nope", { token: ada.token });
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe("not_found");
  });
});

describe("agents and chat through the gateway", () => {
  it("creates an agent in the caller's tenant with the hook token, and records it", async () => {
    const response = await call("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst", persona: "Curious" } });
    expect(response.status).toBe(201);
    const { agent } = (await response.json()) as { agent: Agent };
    expect(agent).toMatchObject({ slug: "ada", name: "Ada", role: "Analyst" });
    const create = gateway.requests.find((request) => request.method === "POST" && request.path === "/v1/agents");
    expect(create).toMatchObject({ tenantId: ada.tenantId, authorization: "Bearer hook-secret" });
    const rows = await withSystem(platform.database.system, (trx) => trx.selectFrom("agents").selectAll().execute());
    expect(rows).toEqual([expect.objectContaining({ tenant_id: ada.tenantId, slug: "ada", name: "Ada" })]);

    const list = (await (await call("GET", "/api/agents", { token: ada.token })).json()) as { agents: Agent[] };
    expect(list.agents.map((a) => a.slug)).toEqual(["ada"]);
    const bobList = (await (await call("GET", "/api/agents", { token: bob.token })).json()) as { agents: Agent[] };
    expect(bobList.agents).toEqual([]);
  });

  it("validates the agent body and names the field", async () => {
    const response = await call("POST", "/api/agents", { token: ada.token, body: { name: "", role: "x" } });
    expect(response.status).toBe(400);
    const error = await errorOf(response);
    expect(error.code).toBe("validation_failed");
    expect(error.message).toMatch(/^name:/);
  });

  it("answers invalid JSON with 400 invalid_json", async () => {
    const response = await platform.app.request(`${TEST_ORIGIN}/api/agents`, {
      method: "POST",
      headers: { authorization: `Bearer ${ada.token}`, "content-type": "application/json" },
      body: "{",
    });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).code).toBe("invalid_json");
  });

  it("passes gateway errors through in our shape", async () => {
    // An explicit slug that is taken (a second "Ada" without one would become ada-2).
    const response = await call("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst", slug: "ada" } });
    expect(response.status).toBe(409);
    expect((await errorOf(response)).code).toBe("agent_exists");
  });

  it("streams a reply as SSE, frames intact, with X-Run-Id", async () => {
    const response = await call("POST", "/api/agents/ada/messages", { token: ada.token, body: { message: "Who are you?" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(response.headers.get("cache-control")).toMatch(/no-cache/);
    const runId = response.headers.get("x-run-id");
    const { raw, events } = await readEvents(response);
    expect(runId).toBe(events[0]?.runId);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index + 1));
    expect(events[0]?.type).toBe("run-start");
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("")).toBe("I am Ada, your analyst.");
    expect(raw).toContain(`id: 1\nevent: run-start\ndata: {`);

    const resumed = await call("GET", `/api/runs/${runId}/events`, { token: ada.token, headers: { "last-event-id": "2" } });
    expect(resumed.status).toBe(200);
    const rest = await readEvents(resumed);
    expect(rest.events[0]?.seq).toBe(3);
    expect(rest.events.at(-1)?.type).toBe("run-end");

    const stats = (await (await call("GET", "/api/stream/stats", { token: ada.token })).json()) as StreamStatsSnapshot;
    expect(stats).toMatchObject({ openStreams: 0, streamsStarted: 1, resumes: 1 });
    expect(stats.eventsSent).toBe(events.length + rest.events.length);
    expect(stats.ttftMs.samples).toBe(1);
  });

  it("does not let another tenant resume a run", async () => {
    const [runId] = [...gateway.runs.keys()];
    const response = await call("GET", `/api/runs/${runId}/events?after=0`, { token: bob.token });
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe("run_not_found");
  });

  it("answers a message to an unknown agent with 404 JSON, not a stream", async () => {
    const response = await call("POST", "/api/agents/nobody/messages", { token: ada.token, body: { message: "hi" } });
    expect(response.status).toBe(404);
    expect(response.headers.get("content-type")).toMatch(/application\/json/);
    expect((await errorOf(response)).code).toBe("agent_not_found");
  });

  it("rejects an empty message naming the field", async () => {
    const response = await call("POST", "/api/agents/ada/messages", { token: ada.token, body: { message: "" } });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).message).toMatch(/^message:/);
  });

  it("deletes an agent and its record", async () => {
    const response = await call("DELETE", "/api/agents/ada", { token: ada.token });
    expect(response.status).toBe(204);
    expect(await withSystem(platform.database.system, (trx) => trx.selectFrom("agents").selectAll().execute())).toEqual([]);
    expect((await call("GET", "/api/agents/ada", { token: ada.token })).status).toBe(404);
  });
});

describe("public endpoints", () => {
  it("serves /api/config for the web app", async () => {
    const response = await call("GET", "/api/config");
    expect(await response.json()).toEqual({ supabaseUrl: TEST_ORIGIN, supabaseAnonKey: embeddedPublishableKey(TEST_ORIGIN), embeddedAuth: true, signup: "open", firstAccount: false });
  });

  it("tells the visitor to build the web app when it is missing", async () => {
    const response = await call("GET", "/");
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("npm run build:web");
  });
});

describe("oversized bodies", () => {
  it("answers 413 payload_too_large and creates nothing", async () => {
    const before = (await (await call("GET", "/api/agents", { token: ada.token })).json()) as { agents: Agent[] };
    const response = await call("POST", "/api/agents", {
      token: ada.token,
      body: { name: "Huge", role: "Filler", persona: "x".repeat(2 * 1024 * 1024) },
    });
    expect(response.status).toBe(413);
    const error = await errorOf(response);
    expect(error.code).toBe("payload_too_large");
    expect(error.message).toContain("limited to");
    const after = (await (await call("GET", "/api/agents", { token: ada.token })).json()) as { agents: Agent[] };
    expect(after.agents).toHaveLength(before.agents.length);
  });
});
