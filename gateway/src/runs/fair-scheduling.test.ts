import { ApiErrorBody, RunInfo, type TenantLimits, type TenantPolicy } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createHeldProvider } from "../test-support/held-provider";
import { readRunEvents, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

/** A gateway whose model answers only when the test says so, with an agent for tenants A and B. */
async function start(maxConcurrentRuns: number) {
  const provider = createHeldProvider();
  harness = await startTestGateway({ providers: { anthropic: provider }, config: { defaultModel: "claude-held", maxConcurrentRuns } });
  for (const tenant of [TENANT_A, TENANT_B]) expect((await harness.createAgent(tenant)).status).toBe(201);
  // Runs started together reach the model in either order: calls are found by message.
  const release = (message: string) => provider.calls.find((call) => call.message === message)?.release();
  const messages = () => provider.calls.map((call) => call.message);
  return { h: harness, provider, release, messages };
}

async function send(h: TestGateway, tenant: string, message: string): Promise<RunInfo> {
  const response = await h.request("POST", "/v1/agents/ada/runs", { tenant, body: { message } });
  expect(response.status).toBe(202);
  return RunInfo.parse(await response.json());
}

async function statusOf(h: TestGateway, tenant: string, runId: string): Promise<RunInfo["status"]> {
  return RunInfo.parse(await (await h.request("GET", `/v1/runs/${runId}`, { tenant })).json()).status;
}

async function pushPolicy(h: TestGateway, tenant: string, policy: { version?: number; limits: Partial<TenantLimits> }) {
  const body: TenantPolicy = {
    version: policy.version ?? 1,
    suspended: false,
    suspendedReason: null,
    limits: { maxConcurrentRuns: 4, maxQueuedRuns: 200, monthlyTokens: null, diskBytes: null, ...policy.limits },
  };
  const response = await h.request("PUT", "/v1/tenant/policy", { tenant, body });
  expect(response.status).toBe(200);
}

describe("fair scheduling between tenants", () => {
  it("keeps a flooding tenant to its own cap while another tenant's run starts at once", async () => {
    const { h, provider, messages } = await start(8);
    const flood = [];
    for (let index = 0; index < 30; index += 1) flood.push(await send(h, TENANT_A, `A${index}`));
    // The default tenant cap is 4: the rest of A's flood waits in A's own queue.
    expect(flood.filter((run) => run.status === "running")).toHaveLength(4);
    const b = await send(h, TENANT_B, "B0");
    expect(b.status).toBe("running");
    await provider.waitForCalls(5);
    expect(messages().sort()).toEqual(["A0", "A1", "A2", "A3", "B0"]);
    expect(await statusOf(h, TENANT_A, flood[29]!.runId)).toBe("queued");

    // Releasing A's runs one by one never lets more than 4 of them execute at once, and all complete.
    let peak = 0;
    for (let released = 0; released < 30; released += 1) {
      await provider.waitForCalls(Math.min(31, 5 + released));
      const heldA = provider.held().filter((call) => call.message.startsWith("A"));
      peak = Math.max(peak, heldA.length);
      heldA[0]?.release();
    }
    provider.held().forEach((call) => call.release());
    const last = await readRunEvents(await h.request("GET", `/v1/runs/${flood[29]!.runId}/events`));
    expect(last.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(peak).toBe(4);
  });

  it("gives a scarce gateway slot to the other tenant before the flooding tenant's queue drains", async () => {
    const { h, provider, release, messages } = await start(2);
    for (let index = 0; index < 10; index += 1) await send(h, TENANT_A, `A${index}`);
    const b = await send(h, TENANT_B, "B0");
    expect(b.status).toBe("queued");
    await provider.waitForCalls(2);
    release("A0");
    await provider.waitForCalls(3);
    // B was served longest ago (never), so it takes the freed slot ahead of A's 8 waiting runs.
    expect(messages()[2]).toBe("B0");
    release("A1");
    await provider.waitForCalls(4);
    expect(provider.calls[3]!.message).toBe("A2");
    expect(await statusOf(h, TENANT_B, b.runId)).toBe("running");
  });

  it("answers 429 tenant_queue_full with Retry-After once the tenant's queue is full, and other tenants still run", async () => {
    const { h } = await start(8);
    await pushPolicy(h, TENANT_A, { limits: { maxConcurrentRuns: 1, maxQueuedRuns: 2 } });
    const accepted = [await send(h, TENANT_A, "A0"), await send(h, TENANT_A, "A1"), await send(h, TENANT_A, "A2")];
    expect(accepted.map((run) => run.status)).toEqual(["running", "queued", "queued"]);
    const refused = await h.request("POST", "/v1/agents/ada/runs", { tenant: TENANT_A, body: { message: "A3" } });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    const body = ApiErrorBody.parse(await refused.json());
    expect(body.error.code).toBe("tenant_queue_full");
    expect(body.error.message).toContain("2 waiting");
    expect((await send(h, TENANT_B, "B0")).status).toBe("running");
  });

  it("applies a pushed cap to the next runs without a restart", async () => {
    const { h, provider, release } = await start(8);
    await pushPolicy(h, TENANT_A, { version: 1, limits: { maxConcurrentRuns: 1 } });
    const first = await send(h, TENANT_A, "A0");
    const second = await send(h, TENANT_A, "A1");
    expect([first.status, second.status]).toEqual(["running", "queued"]);
    await pushPolicy(h, TENANT_A, { version: 2, limits: { maxConcurrentRuns: 3 } });
    const third = await send(h, TENANT_A, "A2");
    expect(third.status).toBe("running");
    expect(await statusOf(h, TENANT_A, second.runId)).toBe("running");
    await provider.waitForCalls(3);
    // Lowered again: runs already executing finish, new ones wait for the single slot.
    await pushPolicy(h, TENANT_A, { version: 3, limits: { maxConcurrentRuns: 1 } });
    const fourth = await send(h, TENANT_A, "A3");
    expect(fourth.status).toBe("queued");
    release("A0");
    release("A1");
    for (const run of [first, second]) await readRunEvents(await h.request("GET", `/v1/runs/${run.runId}/events`, { tenant: TENANT_A }));
    expect(await statusOf(h, TENANT_A, fourth.runId)).toBe("queued");
    release("A2");
    await provider.waitForCalls(4);
    expect(provider.calls[3]!.message).toBe("A3");
  });
});
