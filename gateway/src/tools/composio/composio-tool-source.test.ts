import { startFakeComposio, startFakeUpstream, type FakeComposio, type FakeUpstream } from "@workforce/fake-upstream";
import { createGuardedFetch, PUBLIC_ONLY, type GuardedFetch } from "@workforce/net-guard";
import type { RunComposioTool, RunEvent } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createProviders } from "../../llm/create-providers";
import type { Logger } from "../../logger";
import { readRunEvents, replyText, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../../test-support/test-gateway";
import { createComposioToolSource } from "./composio-tool-source";

const COMPOSIO_KEY = "composio-operator-key-abcdef0123";
let upstream: FakeUpstream;
let composio: FakeComposio;
let harness: TestGateway | undefined;
let guarded: GuardedFetch;
let accountA: string;
let accountB: string;
const logged: string[] = [];
const logger: Logger = {
  info: (message) => logged.push(message),
  warn: (message) => logged.push(message),
  error: (message, error) => logged.push(`${message} ${String(error)}`),
};

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
  composio = await startFakeComposio({ apiKey: COMPOSIO_KEY });
  accountA = composio.addAccount(TENANT_A, "github");
  accountB = composio.addAccount(TENANT_B, "github");
  // Through the SSRF guard as in production; the operator allowed the (loopback) Composio host.
  guarded = createGuardedFetch({ allowPrivateNetwork: false, allowHosts: [new URL(composio.url).host] });
});
afterAll(async () => {
  await guarded.close();
  await upstream.close();
  await composio.close();
});
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
  upstream.reset();
  composio.executions.length = 0;
  composio.refusedExecutions.length = 0;
});

async function gateway(limits: { toolTimeoutMs?: number; maxResultBytes?: number } = {}, through: typeof fetch = guarded) {
  const providers = createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: undefined });
  harness = await startTestGateway({
    providers,
    config: { defaultModel: "claude-fake-1" },
    runToolSources: [createComposioToolSource({ logger, fetch: through, ...limits })],
  });
  await harness.createAgent(TENANT_A);
  await harness.createAgent(TENANT_B);
  return harness;
}

const grant = (connectedAccountId: string, slug = "GITHUB_CREATE_AN_ISSUE", mode: "allow" | "ask" = "allow"): RunComposioTool => ({ slug, toolkit: "github", connectedAccountId, mode });

/** A run of tenant's Ada whose integrations are what the platform would send; the model calls `call` once. */
async function run(h: TestGateway, tenant: string, tools: RunComposioTool[], call = "GITHUB_CREATE_AN_ISSUE"): Promise<RunEvent[]> {
  upstream.enqueue({ kind: "tool_use", name: call, input: { title: "Printer on fire" } }, { kind: "text", text: "Done." });
  const body = { message: "File the bug", sessionKey: "s", integrations: { composio: { apiKey: COMPOSIO_KEY, baseUrl: composio.url, userId: tenant, tools } } };
  return readRunEvents(await h.request("POST", "/v1/agents/ada/runs", { tenant, body, headers: { accept: "text/event-stream" } }));
}
const toolEnd = (events: RunEvent[]) => events.find((event) => event.type === "tool-call-end");
const offered = (index = 0) => ((upstream.requests[index]?.body as { tools?: { name: string; input_schema: unknown }[] }).tools ?? []);

describe("Composio tools in a run (real gateway, fake model and fake Composio)", () => {
  it("offers a granted tool under its slug with Composio's schema and runs it as the tenant with its connected account", async () => {
    const h = await gateway();
    const events = await run(h, TENANT_A, [grant(accountA)]);
    expect(offered().find((tool) => tool.name === "GITHUB_CREATE_AN_ISSUE")?.input_schema).toMatchObject({ type: "object", properties: { title: { type: "string" } } });
    expect(toolEnd(events)).toMatchObject({ name: "GITHUB_CREATE_AN_ISSUE", isError: false });
    expect(toolEnd(events)).toMatchObject({ output: expect.stringContaining("Printer on fire") as string });
    expect(replyText(events)).toBe("Done.");
    expect(composio.executions).toEqual([{ tool: "GITHUB_CREATE_AN_ISSUE", userId: TENANT_A, connectedAccountId: accountA, arguments: { title: "Printer on fire" }, version: "20250909_00" }]);
  });

  it("does not offer tools not granted", async () => {
    const h = await gateway();
    const events = await run(h, TENANT_A, [grant(accountA, "GITHUB_STAR_A_REPOSITORY")]);
    expect(offered().map((tool) => tool.name)).toContain("GITHUB_STAR_A_REPOSITORY");
    expect(offered().map((tool) => tool.name)).not.toContain("GITHUB_CREATE_AN_ISSUE");
    expect(toolEnd(events)).toMatchObject({ isError: true, output: 'unknown tool "GITHUB_CREATE_AN_ISSUE"' });
    expect(composio.executions).toEqual([]);
  });

  it("runs an `ask` grant's call only once a member approves it (issue 15)", async () => {
    const h = await gateway();
    const tools = [grant(accountA, "GITHUB_CREATE_AN_ISSUE", "ask")];
    const paused = await run(h, TENANT_A, tools);
    expect(offered().map((tool) => tool.name)).toContain("GITHUB_CREATE_AN_ISSUE");
    const required = paused.find((event) => event.type === "approval-required");
    expect(required).toMatchObject({ name: "GITHUB_CREATE_AN_ISSUE", input: { title: "Printer on fire" } });
    expect(paused.at(-1)).toMatchObject({ type: "run-end", status: "paused" });
    expect(composio.executions).toEqual([]);

    const approvalId = required?.type === "approval-required" ? required.approvalId : "";
    const integrations = { composio: { apiKey: COMPOSIO_KEY, baseUrl: composio.url, userId: TENANT_A, tools } };
    const resumed = await readRunEvents(
      await h.request("POST", `/v1/agents/ada/sessions/s/approvals/${approvalId}`, { tenant: TENANT_A, body: { decision: "approve", integrations }, headers: { accept: "text/event-stream" } }),
    );
    expect(toolEnd(resumed)).toMatchObject({ name: "GITHUB_CREATE_AN_ISSUE", isError: false });
    expect(replyText(resumed)).toBe("Done.");
    expect(composio.executions).toEqual([expect.objectContaining({ tool: "GITHUB_CREATE_AN_ISSUE", userId: TENANT_A, connectedAccountId: accountA })]);
  });

  it("keeps tenants apart: B's run uses B's account, and a run of B naming A's account is refused", async () => {
    const h = await gateway();
    await run(h, TENANT_B, [grant(accountB)]);
    expect(composio.executions.map((execution) => [execution.userId, execution.connectedAccountId])).toEqual([[TENANT_B, accountB]]);

    const forged = await run(h, TENANT_B, [grant(accountA)]);
    expect(toolEnd(forged)).toMatchObject({ isError: true });
    expect(toolEnd(forged)).toMatchObject({ output: expect.stringMatching(/^composio_tool_failed: /) as string });
    expect(composio.refusedExecutions).toEqual([expect.objectContaining({ userId: TENANT_B, connectedAccountId: accountA })]);
    expect(composio.executions.filter((execution) => execution.connectedAccountId === accountA)).toEqual([]);
  });

  it("maps a failing tool, a timeout and an oversized result to codes at the start of the tool result", async () => {
    const h = await gateway({ toolTimeoutMs: 300, maxResultBytes: 10_000 });
    composio.scriptExecution("GITHUB_CREATE_AN_ISSUE", { error: "Repository not found" }, { hang: true }, { bytes: 50_000 });
    const outputs: string[] = [];
    for (const _ of [1, 2, 3]) {
      const end = toolEnd(await run(h, TENANT_A, [grant(accountA)]));
      if (end?.type === "tool-call-end" && end.isError) outputs.push(end.output);
    }
    // The hanging call never answered by itself: the gateway's timeout ended it.
    composio.releaseHanging();
    expect(outputs).toHaveLength(3);
    expect(outputs[0]).toBe("composio_tool_failed: GITHUB_CREATE_AN_ISSUE failed: Repository not found");
    expect(outputs[1]).toMatch(/^composio_tool_timeout: GITHUB_CREATE_AN_ISSUE did not answer/);
    expect(outputs[2]).toMatch(/^composio_result_too_large: /);
  });

  it("reaches Composio only through the SSRF guard: a private Composio the operator did not allow offers nothing", async () => {
    const publicOnly = createGuardedFetch(PUBLIC_ONLY);
    try {
      const h = await gateway({}, publicOnly);
      const before = composio.requests.length;
      const events = await run(h, TENANT_A, [grant(accountA)]);
      expect(offered().map((tool) => tool.name)).not.toContain("GITHUB_CREATE_AN_ISSUE");
      expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
      expect(composio.requests.length).toBe(before);
    } finally {
      await publicOnly.close();
    }
  });

  it("never lets the operator's Composio key reach the model, the events, the transcript or the log", async () => {
    const h = await gateway();
    const events = await run(h, TENANT_A, [grant(accountA)]);
    const transcript = await (await h.request("GET", "/v1/agents/ada/sessions/s", { tenant: TENANT_A })).text();
    expect(JSON.stringify(events)).not.toContain(COMPOSIO_KEY);
    expect(transcript).not.toContain(COMPOSIO_KEY);
    expect(JSON.stringify(upstream.requests.map((request) => request.body))).not.toContain(COMPOSIO_KEY);
    expect(logged.join("\n")).not.toContain(COMPOSIO_KEY);
  });
});
