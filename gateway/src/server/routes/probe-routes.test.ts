import { ApiErrorBody, RunInfo } from "@workforce/protocol";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHeldProvider } from "../../test-support/held-provider";
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

const TOKEN = "probe-test-token";

/** A gateway behind a real socket, with a hook token (probes must not need it) and a model that answers when told. */
async function start(options: { maxConcurrentRuns?: number; maxQueuedTotal?: number } = {}) {
  const provider = createHeldProvider();
  harness = await startTestGateway({
    hookToken: TOKEN,
    providers: { anthropic: provider },
    config: { defaultModel: "claude-held", maxConcurrentRuns: options.maxConcurrentRuns ?? 8 },
    limits: options.maxQueuedTotal === undefined ? {} : { maxQueuedTotal: options.maxQueuedTotal },
  });
  server = await startServer(harness.gateway.app, 0, "127.0.0.1");
  const url = server.url;
  // What a kubelet sends: no token, no tenant.
  const probe = async (route: "/livez" | "/readyz") => {
    const response = await fetch(`${url}${route}`);
    return { status: response.status, body: (await response.json()) as { status: string; checks?: Record<string, boolean> } };
  };
  return { h: harness, provider, probe };
}

async function send(h: TestGateway, message: string): Promise<Response> {
  return h.request("POST", "/v1/agents/ada/runs", { tenant: TENANT_A, body: { message } });
}

describe("GET /livez and GET /readyz", () => {
  it("answer a caller without a token, and tell nothing about where or what runs", async () => {
    const { h, probe } = await start();
    expect(await probe("/livez")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await probe("/readyz")).toEqual({ status: 200, body: { status: "ready", checks: { dataDir: true, notShuttingDown: true, queueHasRoom: true } } });
    for (const route of ["/livez", "/readyz"] as const) {
      const text = JSON.stringify((await probe(route)).body);
      for (const internal of [h.dataDir, h.instanceId, TOKEN]) expect(text).not.toContain(internal);
    }
  });

  it("keep a saturated gateway alive but take it out of rotation until its queue has room again", async () => {
    const { h, provider, probe } = await start({ maxConcurrentRuns: 1, maxQueuedTotal: 2 });
    expect((await h.createAgent(TENANT_A)).status).toBe(201);
    const runs: RunInfo[] = [];
    for (const message of ["first", "second", "third"]) {
      const response = await send(h, message);
      expect(response.status).toBe(202);
      runs.push(RunInfo.parse(await response.json()));
    }
    expect(runs.map((run) => run.status)).toEqual(["running", "queued", "queued"]);
    // The gateway now refuses every new run: exactly when readiness says to send it none.
    const refused = await send(h, "fourth");
    expect(refused.status).toBe(429);
    expect(ApiErrorBody.parse(await refused.json()).error.code).toBe("too_many_runs");
    expect(await probe("/readyz")).toEqual({ status: 503, body: { status: "not_ready", checks: { dataDir: true, notShuttingDown: true, queueHasRoom: false } } });
    // Alive all the same: a liveness failure would restart it and abort the three runs it holds.
    expect(await probe("/livez")).toEqual({ status: 200, body: { status: "ok" } });

    await provider.waitForCalls(1);
    provider.calls[0]!.release();
    await provider.waitForCalls(2);
    expect((await probe("/readyz")).status).toBe(200);
    provider.held().forEach((call) => call.release());
  });

  it("say not ready when TENANT_DATA_DIR is lost or replaced under the gateway", async () => {
    const { h, probe } = await start();
    const marker = path.join(h.dataDir, ".workforce-data-dir.json");
    // Another volume mounted in its place: a marker with another instance id.
    await writeFile(marker, JSON.stringify({ instanceId: "another-installation", createdAt: new Date().toISOString() }));
    expect(await probe("/readyz")).toMatchObject({ status: 503, body: { status: "not_ready", checks: { dataDir: false } } });
    await rm(h.dataDir, { recursive: true, force: true });
    expect(await probe("/readyz")).toMatchObject({ status: 503, body: { checks: { dataDir: false, notShuttingDown: true } } });
    expect(await probe("/livez")).toEqual({ status: 200, body: { status: "ok" } });
  });

  it("say not ready as soon as shutdown begins, while runs are still being aborted and recorded", async () => {
    const { h, provider } = await start();
    expect((await h.createAgent(TENANT_A)).status).toBe(201);
    expect((await send(h, "in flight")).status).toBe(202);
    await provider.waitForCalls(1);
    harness = undefined;
    const closing = h.cleanup();
    const readiness = await h.gateway.app.request("/readyz");
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: "not_ready", checks: { notShuttingDown: false } });
    await closing;
  });
});
