import { access, readdir, readFile, symlink } from "node:fs/promises";
import path from "node:path";
import { ApiErrorBody, RunInfo, type RunEvent } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { readRunEvents, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../../test-support/test-gateway";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

const SSE = { accept: "text/event-stream" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** Every file under `dir` with its content, for before/after comparisons. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, file)] = await readFile(file, "utf8");
  }
  return files;
}

/** Two tenants with an agent and a finished session each. */
async function twoTenants(h: TestGateway): Promise<void> {
  for (const tenant of [TENANT_A, TENANT_B]) {
    expect((await h.createAgent(tenant)).status).toBe(201);
    const events = await readRunEvents(await h.request("POST", "/v1/agents/ada/runs", { tenant, body: { message: "Hello", sessionKey: "first" }, headers: SSE }));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
  }
  // Runs are journaled just after their end: let that finish before files are compared.
  await h.gateway.metering.flush();
}

describe("DELETE /v1/tenant", () => {
  it("aborts the tenant's runs, removes its directory and leaves other tenants alone", async () => {
    harness = await startTestGateway({ config: { offlineTokenDelayMs: 5 } });
    const h = harness;
    await twoTenants(h);
    const tenantDir = path.join(h.dataDir, TENANT_A);
    const bDir = path.join(h.dataDir, TENANT_B);
    const bFiles = await snapshot(bDir);
    const bSessions = await (await h.request("GET", "/v1/agents/ada/sessions", { tenant: TENANT_B })).json();

    // A long message keeps the run streaming; a second one waits in the same session's queue.
    const running = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "Tell me everything. ".repeat(50), sessionKey: "busy" }, headers: SSE });
    const runningEvents = readRunEvents(running);
    const queued = RunInfo.parse(await (await h.request("POST", "/v1/agents/ada/runs", { body: { message: "And then?", sessionKey: "busy" } })).json());
    expect(queued.status).toBe("queued");
    const runId = running.headers.get("x-run-id") ?? "";
    for (let tries = 0; h.gateway.runs.get(TENANT_A, runId).log.lastSeq < 3 && tries < 200; tries += 1) await sleep(5);
    expect(h.gateway.runs.get(TENANT_A, runId).status).toBe("running");

    const erased = await h.request("DELETE", "/v1/tenant");
    expect(erased.status).toBe(204);
    const events: RunEvent[] = await runningEvents;
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "aborted" });
    expect(await exists(tenantDir)).toBe(false);
    await sleep(150);
    expect(await exists(tenantDir)).toBe(false);

    expect(await (await h.request("GET", "/v1/agents")).json()).toEqual({ agents: [] });
    expect((await h.request("GET", `/v1/runs/${runId}`)).status).toBe(404);
    expect((await h.request("GET", `/v1/runs/${queued.runId}`)).status).toBe(404);
    expect(h.gateway.sessions.cacheStats().loaded).toBe(1);
    expect(await exists(tenantDir)).toBe(false);

    expect(await snapshot(bDir)).toEqual(bFiles);
    expect(await (await h.request("GET", "/v1/agents", { tenant: TENANT_B })).json()).toMatchObject({ agents: [{ slug: "ada" }] });
    expect(await (await h.request("GET", "/v1/agents/ada/sessions", { tenant: TENANT_B })).json()).toEqual(bSessions);

    expect((await h.request("DELETE", "/v1/tenant")).status).toBe(204);
    // The tenant can start over.
    expect((await h.createAgent(TENANT_A)).status).toBe(201);
  });

  it("answers 204 for a tenant that never had data", async () => {
    harness = await startTestGateway();
    expect((await harness.request("DELETE", "/v1/tenant", { tenant: TENANT_B })).status).toBe(204);
    expect(await exists(path.join(harness.dataDir, TENANT_B))).toBe(false);
  });

  it("requires the hook token and a valid tenant id", async () => {
    harness = await startTestGateway({ hookToken: "s3cret-token" });
    await harness.createAgent(TENANT_A);
    const missing = await harness.request("DELETE", "/v1/tenant", { headers: { authorization: "" } });
    expect(missing.status).toBe(401);
    expect(ApiErrorBody.parse(await missing.json()).error.code).toBe("unauthorized");
    for (const tenant of ["../etc", `${TENANT_A}/../${TENANT_B}`, null]) {
      const bad = await harness.request("DELETE", "/v1/tenant", { tenant });
      expect(bad.status).toBe(400);
    }
    expect(await exists(path.join(harness.dataDir, TENANT_A, "config.json"))).toBe(true);
  });

  it("refuses a tenant directory that is a symlink to another tenant's", async () => {
    harness = await startTestGateway();
    await harness.createAgent(TENANT_B);
    const bDir = path.join(harness.dataDir, TENANT_B);
    const before = await snapshot(bDir);
    await symlink(bDir, path.join(harness.dataDir, TENANT_A));
    const refused = await harness.request("DELETE", "/v1/tenant");
    expect(refused.status).toBe(400);
    expect(ApiErrorBody.parse(await refused.json()).error.code).toBe("path_escape");
    expect(await snapshot(bDir)).toEqual(before);
  });
});

