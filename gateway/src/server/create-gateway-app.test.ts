import { access, cp, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Agent, ApiErrorBody, GatewayHealth } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { readRunEvents } from "../test-support/test-gateway";
import { startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

async function errorOf(response: Response) {
  return ApiErrorBody.parse(await response.json()).error;
}

describe("gateway HTTP app: agents", () => {
  it("creates, lists, gets, updates and deletes an agent, writing the guide's layout", async () => {
    harness = await startTestGateway();
    const created = await harness.createAgent(TENANT_A, { emoji: "🔬", instructions: "Cite sources." });
    expect(created.status).toBe(201);
    const { agent } = (await created.json()) as { agent: unknown };
    expect(Agent.parse(agent)).toMatchObject({ slug: "ada", name: "Ada", role: "Research Analyst", model: null });

    const root = path.join(harness.dataDir, TENANT_A);
    expect((await stat(root)).mode & 0o777).toBe(0o700);
    await access(path.join(root, "agents", "ada", "sessions"));
    const identity = await readFile(path.join(root, "workspace", "ada", "IDENTITY.md"), "utf8");
    expect(identity).toContain("**Name:** Ada");
    expect(identity).toContain("**Role:** Research Analyst");
    expect(await readFile(path.join(root, "workspace", "ada", "SOUL.md"), "utf8")).toContain("Curious and precise.");
    expect(await readFile(path.join(root, "workspace", "ada", "AGENTS.md"), "utf8")).toContain("Cite sources.");
    for (const file of ["USER.md", "TOOLS.md", "MEMORY.md"]) await access(path.join(root, "workspace", "ada", file));
    const config = JSON.parse(await readFile(path.join(root, "config.json"), "utf8")) as { agents: { slug: string }[] };
    expect(config.agents.map((entry) => entry.slug)).toEqual(["ada"]);

    const duplicate = await harness.createAgent(TENANT_A, { slug: "ada" });
    expect(duplicate.status).toBe(409);
    expect((await errorOf(duplicate)).code).toBe("agent_exists");

    const list = (await (await harness.request("GET", "/v1/agents")).json()) as { agents: Agent[] };
    expect(list.agents.map((entry) => entry.slug)).toEqual(["ada"]);

    const patched = await harness.request("PATCH", "/v1/agents/ada", { body: { role: "Chief Scientist" } });
    expect(patched.status).toBe(200);
    expect(((await patched.json()) as { agent: Agent }).agent.role).toBe("Chief Scientist");
    expect(await readFile(path.join(root, "workspace", "ada", "IDENTITY.md"), "utf8")).toContain("**Role:** Chief Scientist");

    const fetched = await harness.request("GET", "/v1/agents/ada");
    expect(((await fetched.json()) as { agent: Agent }).agent.role).toBe("Chief Scientist");

    expect((await harness.request("DELETE", "/v1/agents/ada")).status).toBe(204);
    await expect(access(path.join(root, "workspace", "ada"))).rejects.toThrow();
    await expect(access(path.join(root, "agents", "ada"))).rejects.toThrow();
    const gone = await harness.request("GET", "/v1/agents/ada");
    expect(gone.status).toBe(404);
    expect((await errorOf(gone)).code).toBe("agent_not_found");
  });

  // Found by the HTTP fuzz suite (seed -2046880646): such an agent was saved, and every message
  // to it then failed with a 502. Now saving it is refused, saying what the operator must set.
  it("refuses to save an agent with a model this gateway cannot serve", async () => {
    harness = await startTestGateway();
    const created = await harness.createAgent(TENANT_A, { model: "openai:gpt-4o" });
    expect(created.status).toBe(400);
    const error = await errorOf(created);
    expect(error.code).toBe("validation_failed");
    expect(error.message).toContain("OPENAI_BASE_URL");
    expect((await harness.request("GET", "/v1/agents")).status).toBe(200);
    expect((await harness.createAgent(TENANT_A, { model: "offline" })).status).toBe(201);
    const patched = await harness.request("PATCH", "/v1/agents/ada", { body: { model: "openai:gpt-4o" } });
    expect([patched.status, (await errorOf(patched)).code]).toEqual([400, "validation_failed"]);
    expect((await harness.request("PATCH", "/v1/agents/ada", { body: { model: null } })).status).toBe(200);
  });

  it("keeps two tenants' agents with the same slug apart", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A, { role: "Analyst for A" });
    await harness.createAgent(TENANT_B, { role: "Analyst for B" });
    const a = (await (await harness.request("GET", "/v1/agents/ada", { tenant: TENANT_A })).json()) as { agent: Agent };
    const b = (await (await harness.request("GET", "/v1/agents/ada", { tenant: TENANT_B })).json()) as { agent: Agent };
    expect(a.agent.role).toBe("Analyst for A");
    expect(b.agent.role).toBe("Analyst for B");
    await harness.request("DELETE", "/v1/agents/ada", { tenant: TENANT_A });
    expect((await harness.request("GET", "/v1/agents/ada", { tenant: TENANT_B })).status).toBe(200);
  });
});

describe("gateway HTTP app: errors and auth", () => {
  it("answers bad input with specific JSON errors", async () => {
    harness = await startTestGateway();
    const cases: [Promise<Response>, number, string, string?][] = [
      [harness.request("GET", "/v1/agents", { tenant: "../etc" }), 400, "invalid_tenant_id"],
      [harness.request("GET", "/v1/agents", { tenant: "11111111-1111-4111-8111-11111111111A" }), 400, "invalid_tenant_id"],
      [harness.request("GET", "/v1/agents", { tenant: null }), 400, "tenant_required"],
      [harness.request("GET", "/v1/agents/..%2F..%2Fetc"), 400, "invalid_slug"],
      [harness.request("GET", "/v1/agents/Ada"), 400, "invalid_slug"],
      [harness.request("POST", "/v1/agents", { body: "{not json" }), 400, "invalid_json"],
      [harness.request("POST", "/v1/agents", { body: { role: "x" } }), 400, "validation_failed", "body.name"],
      [harness.request("POST", "/v1/agents", { body: { name: "Eve", role: "x", slug: "../x" } }), 400, "validation_failed", "body.slug"],
      [harness.request("GET", "/v1/nothing-here"), 404, "not_found"],
      [harness.request("GET", "/v1/runs/unknown-run"), 404, "run_not_found"],
      [harness.request("GET", "/v1/agents/ghost/sessions"), 404, "agent_not_found"],
    ];
    for (const [pending, status, code, mentions] of cases) {
      const response = await pending;
      const error = await errorOf(response);
      expect({ status: response.status, code: error.code }).toEqual({ status, code });
      if (mentions) expect(error.message).toContain(mentions);
    }
  });

  it("requires the hook token, as Bearer or x-clawdbot-token, but not for health", async () => {
    harness = await startTestGateway({ hookToken: "s3cret-token" });
    const missing = await harness.request("GET", "/v1/agents", { headers: { authorization: "" } });
    expect(missing.status).toBe(401);
    expect((await errorOf(missing)).code).toBe("unauthorized");
    const wrong = await harness.request("GET", "/v1/agents", { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    expect((await errorOf(wrong)).code).toBe("invalid_token");
    expect((await harness.request("GET", "/v1/agents")).status).toBe(200);
    expect((await harness.request("GET", "/v1/agents", { headers: { authorization: "", "x-clawdbot-token": "s3cret-token" } })).status).toBe(200);
    const health = await harness.gateway.app.request("/");
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok" });
  });

  it("rate-limits repeated authentication failures from one address", async () => {
    harness = await startTestGateway({ hookToken: "s3cret-token" });
    for (let attempt = 0; attempt < 20; attempt += 1) {
      expect((await harness.request("GET", "/v1/agents", { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    }
    const limited = await harness.request("GET", "/v1/agents", { headers: { authorization: "Bearer wrong" } });
    expect(limited.status).toBe(429);
    expect((await errorOf(limited)).code).toBe("rate_limited");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await harness.request("GET", "/v1/agents")).status).toBe(200);
  });

  it("reports the data dir and its instance id on GET / to the holder of the token", async () => {
    harness = await startTestGateway({ hookToken: "s3cret-token" });
    const health = GatewayHealth.parse(await (await harness.gateway.app.request("/", { headers: { authorization: "Bearer s3cret-token" } })).json());
    expect(health.dataDir).toEqual({ path: harness.dataDir, instanceId: harness.instanceId });
    expect(health.model).toEqual({ provider: "offline", id: "offline", offline: true });
  });
});

describe("gateway HTTP app: path attacks", () => {
  it("rejects traversal in tenant id, slug and session key", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    // "%2e%2e" path segments are resolved by the URL parser itself, so those requests match no route (404).
    const attempts: [Promise<Response>, string, number?][] = [
      [harness.request("GET", "/v1/agents", { tenant: "%2e%2e%2f%2e%2e" }), "invalid_tenant_id"],
      [harness.request("GET", "/v1/agents", { tenant: `${TENANT_A}/../${TENANT_B}` }), "invalid_tenant_id"],
      [harness.request("GET", "/v1/agents/%2e%2e"), "not_found", 404],
      [harness.request("GET", "/v1/agents/ada/sessions/..%2F..%2Fconfig"), "invalid_session_key"],
      [harness.request("GET", "/v1/agents/ada/sessions/%2e%2e"), "not_found", 404],
      [harness.request("POST", "/v1/agents/ada/runs", { body: { message: "x", sessionKey: "../../etc/passwd" } }), "validation_failed"],
    ];
    const results = [];
    for (const [pending] of attempts) {
      const response = await pending;
      results.push({ status: response.status, code: (await errorOf(response)).code });
    }
    expect(results).toEqual(attempts.map(([, code, status]) => ({ status: status ?? 400, code })));
  });

  it("refuses an identity file symlinked outside the tenant and never reads it", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_A);
    const outside = path.join(harness.dataDir, "outside-secret.md");
    await writeFile(outside, "- **Name:** Mallory\n");
    const identity = path.join(harness.dataDir, TENANT_A, "workspace", "ada", "IDENTITY.md");
    await rm(identity);
    await symlink(outside, identity);
    const response = await harness.request("POST", "/v1/agents/ada/runs", { body: { message: "Who are you?" }, headers: { accept: "text/event-stream" } });
    const events = await readRunEvents(response);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "path_escape" } });
    expect(JSON.stringify(events)).not.toContain("Mallory");
  });

  it("refuses every agent route, reads included, for a tenant directory symlinked outside TENANT_DATA_DIR", async () => {
    harness = await startTestGateway();
    expect((await harness.createAgent(TENANT_A)).status).toBe(201);
    const outside = await mkdtemp(path.join(os.tmpdir(), "gateway-outside-tenant-"));
    try {
      // A look-alike tenant outside the data dir, holding something only a leak would show.
      const tenantDir = path.join(harness.dataDir, TENANT_A);
      await cp(tenantDir, outside, { recursive: true });
      const config = JSON.parse(await readFile(path.join(outside, "config.json"), "utf8")) as { agents: { role: string }[] };
      config.agents[0]!.role = "OUTSIDE-SECRET";
      await writeFile(path.join(outside, "config.json"), JSON.stringify(config));
      // A's directory, which this gateway has seen, is swapped for a link; B's was a link from the start.
      await rm(tenantDir, { recursive: true });
      await symlink(outside, tenantDir);
      await symlink(outside, path.join(harness.dataDir, TENANT_B));
      const before = (await readdir(outside, { recursive: true })).sort();
      const routes: [string, string, unknown][] = [
        ["GET", "/v1/agents", undefined],
        ["GET", "/v1/agents/ada", undefined],
        ["PATCH", "/v1/agents/ada", { role: "Changed" }],
        ["POST", "/v1/agents", { name: "Bea", role: "Analyst" }],
        ["GET", "/v1/agents/ada/sessions", undefined],
        ["POST", "/v1/agents/ada/runs", { message: "hi" }],
        ["DELETE", "/v1/agents/ada", undefined],
      ];
      for (const tenant of [TENANT_A, TENANT_B]) {
        for (const [method, url, body] of routes) {
          const response = await harness.request(method, url, { tenant, body });
          const text = await response.text();
          expect({ tenant, method, url, status: response.status, code: ApiErrorBody.safeParse(JSON.parse(text)).data?.error.code }).toEqual({ tenant, method, url, status: 400, code: "path_escape" });
          expect(text).not.toContain("OUTSIDE-SECRET");
        }
      }
      expect((await readdir(outside, { recursive: true })).sort()).toEqual(before);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});
