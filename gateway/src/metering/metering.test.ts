import { ApiErrorBody, UsageJournalPage, UsagePendingResponse, type TenantPolicy } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import type { ModelProvider } from "../llm/model-provider";
import { startServer } from "../server/start-server";
import { createScriptedProvider, type ScriptedCall } from "../test-support/scripted-provider";
import { readRunEvents, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";
import { connectTestSocket } from "../test-support/ws-test-client";
import { DEFAULT_TENANT_LIMITS } from "../tenants/tenant-policy";

const cleanups: (() => Promise<void>)[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof startTestGateway>[0] = {}): Promise<TestGateway> {
  const h = await startTestGateway(options);
  cleanups.push(() => h.cleanup());
  return h;
}

async function journal(h: TestGateway, tenant = TENANT_A, after = 0): Promise<UsageJournalPage> {
  const response = await h.request("GET", `/v1/usage/journal?after=${after}`, { tenant });
  expect(response.status).toBe(200);
  return UsageJournalPage.parse(await response.json());
}

/** Waits until the tenant's journal holds `count` records (runs are journaled just after they end). */
async function journalWith(h: TestGateway, count: number, tenant = TENANT_A): Promise<UsageJournalPage> {
  for (;;) {
    const page = await journal(h, tenant);
    if (page.entries.length >= count) return page;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function budget(monthlyTokens: number | null): TenantPolicy {
  return { version: 1, suspended: false, suspendedReason: null, limits: { ...DEFAULT_TENANT_LIMITS, monthlyTokens } };
}

describe("metering in the gateway", () => {
  it("journals the runs of every entry point once, with their source and on whose behalf they ran", async () => {
    const h = await start();
    await h.createAgent(TENANT_A);
    const server = await startServer(h.gateway.app, 0, "127.0.0.1", (request, socket, head) => h.gateway.websocket.handleUpgrade(request, socket, head));
    cleanups.push(() => server.close());
    const user = "8a0b0c0d-0000-4000-8000-000000000001";
    const key = "8a0b0c0d-0000-4000-8000-000000000002";

    const http = await h.request("POST", "/v1/agents/ada/runs", {
      body: { message: "over http", sessionKey: "http" },
      headers: { accept: "text/event-stream", "x-workforce-user-id": user },
    });
    expect((await readRunEvents(http)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const hook = await h.request("POST", "/hooks/agent", { body: { agent: "ada", message: "over a hook", sessionKey: "hook" } });
    expect(hook.status).toBe(202);
    const openai = await h.request("POST", "/v1/chat/completions", { body: { model: "agent:ada", messages: [{ role: "user", content: "over openai" }] } });
    expect(openai.status).toBe(200);
    const client = connectTestSocket(`${server.url.replace("http", "ws")}/v1/ws`, { "x-tenant-id": TENANT_A }, sockets);
    await client.opened;
    client.request("1", "chat.send", { agent: "ada", message: "over a socket", sessionKey: "ws", actor: { apiKeyId: key } });
    await client.until((all) => all.some((frame) => frame.event === "run-end"));

    const page = await journalWith(h, 4);
    const bySource = Object.fromEntries(page.entries.map((entry) => [entry.record.source, entry.record]));
    expect(page.entries).toHaveLength(4);
    expect(Object.keys(bySource).sort()).toEqual(["hook", "http", "openai", "ws"]);
    expect(bySource.http).toMatchObject({ userId: user, sessionKey: "http", status: "ok" });
    expect(bySource.ws).toMatchObject({ apiKeyId: key, sessionKey: "ws" });
    expect(bySource.hook?.userId).toBeUndefined();
    for (const entry of page.entries) expect(entry.record.inputTokens + entry.record.outputTokens).toBeGreaterThan(0);
    expect(page.next).toBe(page.size);
    // Another tenant's journal is its own (and empty).
    expect((await journal(h, TENANT_B)).entries).toEqual([]);
  });

  it("tells the platform which tenants have usage past its cursors", async () => {
    const h = await start();
    await h.createAgent(TENANT_A);
    await h.createAgent(TENANT_B);
    await h.request("POST", "/hooks/agent", { body: { agent: "ada", message: "hello" } });
    const page = await journalWith(h, 1);
    const ask = async (cursors: { tenantId: string; after: number }[]) => {
      const response = await h.request("POST", "/v1/usage/pending", { tenant: null, body: { cursors } });
      expect(response.status).toBe(200);
      return UsagePendingResponse.parse(await response.json()).pending;
    };
    expect(await ask([{ tenantId: TENANT_A, after: 0 }, { tenantId: TENANT_B, after: 0 }])).toEqual([{ tenantId: TENANT_A, size: page.size }]);
    expect(await ask([{ tenantId: TENANT_A, after: page.next }])).toEqual([]);
    const bad = await h.request("POST", "/v1/usage/pending", { tenant: null, body: { cursors: [{ tenantId: "../etc", after: 0 }] } });
    expect(bad.status).toBe(400);
    expect(ApiErrorBody.parse(await bad.json()).error.code).toBe("validation_failed");
  });

  it("lets 50 parallel sends against a budget for 5 runs complete at most 5, plus the one documented overshoot", async () => {
    // Every model call uses 1,000 + 1,000 tokens: the budget of 10,000 is five runs.
    const calls: ScriptedCall[] = Array.from({ length: 60 }, () => ({
      parts: [{ type: "text-delta", text: "fine" }, { type: "finish", stopReason: "end_turn", usage: { inputTokens: 1_000, outputTokens: 1_000 } }],
    }));
    const h = await start({ providers: { anthropic: createScriptedProvider(calls) }, config: { defaultModel: "claude-test" } });
    await h.createAgent(TENANT_A);
    await h.createAgent(TENANT_B);
    expect((await h.request("PUT", "/v1/tenant/policy", { body: budget(10_000) })).status).toBe(200);

    let completed = 0;
    let waitedForReservations = 0;
    const monthRefusals: Response[] = [];
    // Each sender retries while only reservations are in the way, and stops at the month's refusal.
    await Promise.all(
      Array.from({ length: 50 }, async (_, index) => {
        for (;;) {
          const response = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "go", sessionKey: `s${index}` }, headers: { accept: "text/event-stream" } });
          if (response.status === 200) {
            const events = await readRunEvents(response);
            if (events.at(-1)?.type === "run-end") completed += 1;
            return;
          }
          expect(response.status).toBe(429);
          const body = ApiErrorBody.parse(await response.clone().json());
          expect(body.error.code).toBe("budget_exceeded");
          if (body.error.retryable === true) {
            expect(response.headers.get("retry-after")).toBe("2");
            expect(body.error.message).toMatch(/reserved by \d+ run\(s\) in progress\); try again in a few seconds/);
            waitedForReservations += 1;
            await new Promise((resolve) => setTimeout(resolve, 5));
            continue;
          }
          monthRefusals.push(response);
          return;
        }
      }),
    );

    expect(completed).toBeGreaterThanOrEqual(5);
    expect(completed).toBeLessThanOrEqual(6);
    expect(monthRefusals).toHaveLength(50 - completed);
    expect(waitedForReservations).toBeGreaterThan(0);
    const refusal = monthRefusals[0];
    const retryAfter = Number(refusal?.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(31 * 86_400);
    expect(ApiErrorBody.parse(await refusal?.json()).error.message).toMatch(/monthly token budget is used up \(\d+ of 10000 tokens this month\); runs resume on/);

    const page = await journalWith(h, completed);
    const used = page.entries.reduce((sum, entry) => sum + entry.record.inputTokens + entry.record.outputTokens, 0);
    expect(used).toBe(completed * 2_000);
    expect(used).toBeLessThanOrEqual(10_000 + 2_000);
    expect(await h.gateway.metering.usage(TENANT_A)).toEqual({ usedTokens: used, reservedTokens: 0, runsInFlight: 0 });

    // Other tenants are not affected, and WebSocket, hooks and the OpenAI endpoint are refused alike.
    const other = await h.request("POST", "/v1/agents/ada/runs", { tenant: TENANT_B, body: { message: "mine" }, headers: { accept: "text/event-stream" } });
    expect((await readRunEvents(other)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const hook = await h.request("POST", "/hooks/agent", { body: { agent: "ada", message: "sneak" } });
    expect(hook.status).toBe(429);
    const openai = await h.request("POST", "/v1/chat/completions", { body: { model: "agent:ada", messages: [{ role: "user", content: "sneak" }] } });
    expect(openai.status).toBe(429);
    expect(ApiErrorBody.parse(await openai.json()).error.code).toBe("budget_exceeded");

    // Raising the budget lets runs through again, without a restart.
    expect((await h.request("PUT", "/v1/tenant/policy", { body: { ...budget(100_000), version: 2 } })).status).toBe(200);
    const again = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "more" }, headers: { accept: "text/event-stream" } });
    expect((await readRunEvents(again)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
  });

  it("journals a run aborted before it started, with no tokens", async () => {
    // The first run holds the only slot until the test lets its model answer.
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const held: ModelProvider = {
      name: "held",
      info: (model) => ({ provider: "anthropic", id: model, offline: false }),
      async *stream() {
        await answered;
        yield { type: "finish", stopReason: "end_turn", usage: { inputTokens: 3, outputTokens: 4 } };
      },
    };
    const h = await start({ providers: { anthropic: held }, config: { maxConcurrentRuns: 1, defaultModel: "claude-test" } });
    await h.createAgent(TENANT_A);
    const first = await h.request("POST", "/hooks/agent", { body: { agent: "ada", message: "a long one", sessionKey: "one" } });
    const queued = await h.request("POST", "/hooks/agent", { body: { agent: "ada", message: "never runs", sessionKey: "two" } });
    const queuedRun = (await queued.json()) as { runId: string };
    expect((await h.request("POST", `/v1/runs/${queuedRun.runId}/abort`)).status).toBe(200);
    expect(first.status).toBe(202);
    answer();
    const page = await journalWith(h, 2);
    const aborted = page.entries.find((entry) => entry.record.runId === queuedRun.runId)?.record;
    expect(aborted).toMatchObject({ status: "aborted", inputTokens: 0, outputTokens: 0, source: "hook" });
    expect(page.entries.find((entry) => entry.record.runId !== queuedRun.runId)?.record).toMatchObject({ status: "ok", inputTokens: 3, outputTokens: 4 });
  });
});
