/**
 * A message's database cost (issue 17, decision 051), counted as the database sees it: every
 * `begin` the platform's Kysely driver sends, each attributed to the request (or test step) that
 * caused it through the async context it ran in, so timers of other work never count.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomUUID } from "node:crypto";
import { McpServerEnvelope, RunIntegrations } from "@workforce/protocol";
import type { LogEvent } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OpenDatabase } from "../db/open-database";
import { withSystem } from "../db/scopes";
import { createStreamStatsStore, STREAM_STATS_DEFAULTS } from "../db/stream-stats-store";
import { createStreamStats } from "../stream-stats";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { LOOPBACK_OUTBOUND, startMcpTestServer, type McpTestServer } from "../test-support/mcp-test-server";
import { sdkMcpToolLister } from "../test-support/sdk-mcp-tool-lister";
import { caller, createTestPlatform, errorOf, openTestDatabase, signUp, type TestPlatform } from "../test-support/test-platform";

const API_KEY = "sk-mcp-admission-0123456789";
const step = new AsyncLocalStorage<string>();
/** The step each transaction was begun for (undefined: none of the test's). */
const begun: (string | undefined)[] = [];
/** Every statement, with the step it ran for. */
const statements: { step: string | undefined; sql: string }[] = [];
const log = (event: LogEvent) => {
  if (event.level !== "query") return;
  if (/^\s*(begin|start transaction)\b/i.test(event.query.sql)) begun.push(step.getStore());
  statements.push({ step: step.getStore(), sql: event.query.sql });
};
const transactionsOf = (name: string) => begun.filter((each) => each === name).length;

let database: OpenDatabase;
let gateway: FakeGateway;
let mcp: McpTestServer;
let platform: TestPlatform;
let limited: TestPlatform;
let owner: { token: string; userId: string; tenantId: string };
let serverId = "";
let releaseRuns!: () => void;
let keeper: Response | undefined;
// A clock that stands still: no cache (auth, budget, limits) expires halfway through a count.
const frozen = new Date();

/** Platform parts that keep every background writer out of the counts: stream statistics are never published. */
const quiet = (maxStreams: number) => ({
  stats: createStreamStats({ store: createStreamStatsStore(database.system, STREAM_STATS_DEFAULTS), instanceId: randomUUID(), logError: (message: string, error: unknown) => console.error(message, error) }),
  apiLimits: { defaults: { requestsPerMinute: 1_000_000, maxStreams } },
  integrations: { outbound: LOOPBACK_OUTBOUND },
  mcpTools: sdkMcpToolLister(),
  capabilities: { web: async () => ({ fetch: true, search: true }) },
});

const send = (through: TestPlatform, body: Record<string, unknown> = {}, token = owner.token) =>
  caller(through)("POST", "/api/agents/ada/messages", { token, body: { message: "Use your tools", ...body } });

/** Sends as step `name`; the answer's headers are the stream starting (the body is left open). */
async function sendAs(name: string, body: Record<string, unknown> = {}, through = platform): Promise<Response> {
  return step.run(name, () => send(through, body));
}

async function sessionOwners(): Promise<number> {
  const rows = await withSystem(database.system, (trx) => trx.selectFrom("session_owners").select("session_key").where("tenant_id", "=", owner.tenantId).execute());
  return rows.length;
}

beforeAll(async () => {
  // Runs stay silent, their streams open, until the suite ends.
  const hold = new Promise<void>((resolve) => {
    releaseRuns = resolve;
  });
  gateway = await startFakeGateway({ hold });
  mcp = await startMcpTestServer({ requiredHeaders: { "x-api-key": API_KEY } });
  database = await openTestDatabase({ log });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, database, now: () => frozen, parts: quiet(10_000) });
  limited = await createTestPlatform({ gatewayUrl: gateway.url, database, now: () => frozen, parts: quiet(1) });
  const call = caller(platform);
  owner = await signUp(platform, "owner@admission.example");
  expect((await call("POST", "/api/agents", { token: owner.token, body: { name: "Ada", role: "Helper" } })).status).toBe(201);

  // Every part reads something: an MCP server and a web tool granted, a model key, a tool mode.
  const created = await call("POST", "/api/integrations/mcp/servers", { token: owner.token, body: { name: "Tools", namespace: "tools", url: mcp.url, auth: "headers", headers: { "X-Api-Key": API_KEY } } });
  expect(created.status).toBe(201);
  serverId = McpServerEnvelope.parse(await created.json()).server.id;
  expect((await call("POST", `/api/integrations/mcp/servers/${serverId}/refresh`, { token: owner.token })).status).toBe(200);
  expect((await call("PUT", "/api/agents/ada/tools", { token: owner.token, body: { grants: [{ source: "mcp", serverId, tool: "echo", mode: "allow" }] } })).status).toBe(200);
  expect((await call("PUT", "/api/integrations/model-keys/anthropic", { token: owner.token, body: { apiKey: "sk-ant-admission-key" } })).status).toBe(200);
  // A web tool's mode is its grant.
  expect((await call("PUT", "/api/agents/ada/tool-modes", { token: owner.token, body: { modes: { write_file: "ask", web_fetch: "ask" } } })).status).toBe(200);

  // A first message fills what every process caches (the caller's membership, the budget, the limits).
  for (const through of [platform, limited]) {
    const first = await send(through);
    expect(first.status).toBe(200);
    await first.body?.cancel();
  }
  // A stream of another caller stays open throughout, so the lease renewal timer started here,
  // outside every counted step, and keeps running (it stops while a process holds no lease).
  const key = await call("POST", "/api/keys", { token: owner.token, body: { name: "keeper" } });
  expect(key.status).toBe(201);
  keeper = await send(platform, {}, ((await key.json()) as { secret: string }).secret);
  expect(keeper.status).toBe(200);
}, 60_000);
afterAll(async () => {
  await keeper?.body?.cancel();
  releaseRuns?.();
  await limited?.close();
  await platform?.close();
  await database?.close();
  await gateway?.close();
  await mcp?.close();
});

describe(`a message's transactions (${process.env.DATABASE_URL ? "Postgres" : "PGlite"})`, () => {
  it("takes one transaction before its stream starts, new session or not, with every integration part read", async () => {
    const fresh = await sendAs("new-session");
    expect(fresh.status).toBe(200);
    expect(transactionsOf("new-session")).toBe(1);

    // The run got each part's share: so each part did read in that one transaction.
    const runId = fresh.headers.get("x-run-id")!;
    const integrations = RunIntegrations.parse(gateway.runs.get(runId)?.integrations);
    expect(integrations.mcp.map((server) => ({ serverId: server.serverId, tools: server.tools }))).toEqual([{ serverId, tools: [{ name: "echo", mode: "allow" }] }]);
    expect(Object.values(integrations.mcp[0]?.headers ?? {})).toEqual([API_KEY]);
    expect(integrations.modelKeys.anthropic?.apiKey).toBe("sk-ant-admission-key");
    expect(integrations.toolModes).toEqual({ write_file: "ask", web_fetch: "ask" });
    expect(integrations.web.fetch).toBe(true);

    // The next message in that session: its owner is checked, still in one transaction.
    const sessionKey = gateway.runs.get(runId)!.sessionKey;
    await fresh.body?.cancel();
    const again = await sendAs("same-session", { sessionKey });
    expect(again.status).toBe(200);
    expect(gateway.runs.get(again.headers.get("x-run-id")!)?.sessionKey).toBe(sessionKey);
    expect(transactionsOf("same-session")).toBe(1);
    // The agent's grants, tool modes and the organisation's model keys: one round trip for every part.
    const integrationReads = statements.filter((each) => each.step === "same-session" && /"(agent_tool_grants|agent_tool_modes|model_keys)"/.test(each.sql));
    expect(integrationReads.length).toBe(1);
    await again.body?.cancel();
  });

  it("costs N + 1 transactions for N streams opened and then closed together: the releases share one", async () => {
    const count = 5;
    const streams = await step.run("batch", async () => {
      const opened: Response[] = [];
      for (let index = 0; index < count; index += 1) opened.push(await send(platform));
      return opened;
    });
    expect(streams.map((response) => response.status)).toEqual(Array(count).fill(200));
    expect(transactionsOf("batch")).toBe(count);

    // The client closes all of them; each close resolves once the place is free for every process.
    await step.run("batch", () => Promise.all(streams.map((response) => response.body!.cancel())));
    expect(transactionsOf("batch")).toBe(count + 1);
    // Only the keeper's stream still holds a place.
    const left = await withSystem(database.system, (trx) => trx.selectFrom("stream_leases").select("subject").execute());
    expect(left.map((row) => row.subject.split(":")[0])).toEqual(["key"]);
  });

  it("refuses a stream over the limit in the same transaction: no session owner and no place are left behind", async () => {
    const held = await send(platform);
    expect(held.status).toBe(200);
    const owners = await sessionOwners();
    // `limited` allows one stream per caller and holds none itself: the database's count refuses.
    const refused = await sendAs("refused", {}, limited);
    expect(await errorOf(refused)).toMatchObject({ status: 429, code: "rate_limited" });
    expect(transactionsOf("refused")).toBe(1);
    expect(await sessionOwners()).toBe(owners);
    await held.body?.cancel();
    // Once the held stream closed, the same caller gets a place there.
    const next = await send(limited);
    expect(next.status).toBe(200);
    await next.body?.cancel();
  });
});
