/**
 * Search over chats and generated titles (issue 16, decision 043), on the real gateway process with
 * the fake Anthropic upstream: every run the usage ingest sees end queues an index job, which names
 * the chat after its first exchange (the model's title, metered; the fallback when the model fails
 * or the budget is spent; never over the user's) and writes its search row. Members find their own
 * chats only, owners and admins everyone's on request (audited), other organisations nothing.
 */
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { SEARCH_MARK_START, SEARCH_MARK_STOP, SearchResponse, OwnedSessionSummary, type SearchResult } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { withSystem, withTenant } from "../db/scopes";
import { startGatewayProcess, type GatewayProcess } from "../test-support/gateway-process";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";

const HOOK_TOKEN = "session-search-hook-token";
const MODEL_KEY = "session-search-model-key";
let upstream: FakeUpstream;
let gateway: GatewayProcess;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
type Person = { token: string; userId: string; tenantId: string };
let owner: Person;
let mia: Person;
let max: Person;
let outsider: Person;

const as = (who: Person, tenantId = owner.tenantId) => ({ token: who.token, headers: { "x-tenant-id": tenantId } });

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: MODEL_KEY });
  gateway = await startGatewayProcess({ hookToken: HOOK_TOKEN, env: { ANTHROPIC_API_KEY: MODEL_KEY, ANTHROPIC_BASE_URL: upstream.url, WORKFORCE_DEFAULT_MODEL: "claude-fake-1" } });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN });
  call = caller(platform);
  owner = await signUp(platform, "olga@search.example");
  mia = await joinAs(platform, owner, "mia@search.example", "member");
  max = await joinAs(platform, owner, "max@search.example", "member");
  outsider = await signUp(platform, "otto@elsewhere.example");
  expect((await call("POST", "/api/agents", { ...as(owner), body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
  expect((await call("POST", "/api/agents", { ...as(outsider, outsider.tenantId), body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
}, 120_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.stop();
  await upstream?.close();
});

/** One exchange: the reply, then (for a first exchange) the title the model is asked for. */
async function chat(who: Person, message: string, replies: Parameters<FakeUpstream["setScript"]>[0], sessionKey?: string, tenantId = owner.tenantId): Promise<string> {
  upstream.setScript(replies);
  const sent = await sendMessage(call, { ...as(who, tenantId), agent: "ada", message, ...(sessionKey ? { sessionKey } : {}) });
  expect(sent.status).toBe(200);
  return sent.sessionKey!;
}

/** What the platform does on its own after runs: ingest their usage, then run the index jobs they queued. */
async function settle(tenantId = owner.tenantId): Promise<void> {
  await platform.ingest.sync(tenantId);
  await platform.jobs.runDue();
}

async function search(who: Person, q: string, extra = "", tenantId = owner.tenantId): Promise<SearchResult[]> {
  const response = await call("GET", `/api/search?q=${encodeURIComponent(q)}${extra}`, as(who, tenantId));
  expect(response.status).toBe(200);
  return SearchResponse.parse(await response.json()).results;
}

async function sessionsOf(who: Person): Promise<OwnedSessionSummary[]> {
  const response = await call("GET", "/api/agents/ada/sessions", as(who));
  return z.object({ sessions: z.array(OwnedSessionSummary) }).parse(await response.json()).sessions;
}

/** The model requests that asked for a title (their system prompt names the task). */
const titleRequests = () => upstream.requests.filter((request) => JSON.stringify(request.body).includes("short title for the conversation"));

let miasKey: string;
let maxsKey: string;

describe("generated titles", () => {
  it("names a chat after its first exchange with the model's short title, metered, and only once", async () => {
    miasKey = await chat(mia, "Who are you?", [{ kind: "text", text: "I am Ada, and I forecast quarterly revenue for the finance team." }, { kind: "text", text: '"Meet Ada, the revenue forecaster."' }]);
    expect((await sessionsOf(mia)).find((session) => session.key === miasKey)).toMatchObject({ title: "Who are you?", titleSource: "message" });
    await settle();
    expect(titleRequests()).toHaveLength(1);
    expect(JSON.stringify(titleRequests()[0]!.body)).toContain("forecast quarterly revenue");
    expect((await sessionsOf(mia)).find((session) => session.key === miasKey)).toMatchObject({ title: "Meet Ada, the revenue forecaster", titleSource: "generated" });
    // Metered: the title's tokens are the organisation's usage, on Mia's account; it is not a run of the chat.
    await platform.ingest.sync(owner.tenantId);
    const rows = await withTenant(platform.database.db, owner.tenantId, (trx) => trx.selectFrom("usage_events").select(["run_id", "user_id"]).where("run_id", "like", "title-%").execute());
    expect(rows).toEqual([expect.objectContaining({ user_id: mia.userId })]);
    const events = await withSystem(platform.database.system, (trx) => trx.selectFrom("tenant_events").select("data").where("tenant_id", "=", owner.tenantId).execute());
    expect(JSON.stringify(events)).not.toContain("title-");
    // A second exchange keeps the title and asks the model for none.
    await chat(mia, "And what do you need from me?", [{ kind: "text", text: "The sales pipeline export, please." }], miasKey);
    await settle();
    expect(titleRequests()).toHaveLength(1);
    expect((await sessionsOf(mia)).find((session) => session.key === miasKey)?.title).toBe("Meet Ada, the revenue forecaster");
  });

  it("never replaces a title the user set, even one set before the first exchange was indexed", async () => {
    const key = await chat(mia, "Draft the board memo", [{ kind: "text", text: "Here is a draft of the board memo." }]);
    expect((await call("PATCH", `/api/agents/ada/sessions/${key}`, { ...as(mia), body: { title: "Board memo" } })).status).toBe(200);
    const before = titleRequests().length;
    await settle();
    expect(titleRequests()).toHaveLength(before);
    expect((await sessionsOf(mia)).find((session) => session.key === key)).toMatchObject({ title: "Board memo", titleSource: "user" });
    expect((await search(mia, "board memo")).map((result) => result.title)).toEqual(["Board memo"]);
  });

  it("falls back to the first message's first sentence when the model fails, and when the budget is spent asks no model", async () => {
    const failed = await chat(max, "Plan the offsite in Lisbon. We are twelve people.", [{ kind: "text", text: "Here is a plan for Lisbon." }, { kind: "status", status: 400 }]);
    await settle();
    maxsKey = failed;
    expect((await sessionsOf(max)).find((session) => session.key === failed)).toMatchObject({ title: "Plan the offsite in Lisbon", titleSource: "generated" });

    // Over budget by the time the title step runs: the fallback, without a model call.
    const spent = await chat(max, "Which hotels are near the river?", [{ kind: "text", text: "Three are near the river." }]);
    expect((await call("PUT", "/api/budget", { ...as(owner), body: { monthlyTokens: 1 } })).status).toBe(200);
    const requests = titleRequests().length;
    await settle();
    expect(titleRequests()).toHaveLength(requests);
    expect((await sessionsOf(max)).find((session) => session.key === spent)).toMatchObject({ title: "Which hotels are near the river?", titleSource: "generated" });
    expect((await call("PUT", "/api/budget", { ...as(owner), body: { monthlyTokens: null } })).status).toBe(200);
  });
});

describe("search", () => {
  it("finds a member's chats by words of their messages and titles, with the matches marked in a snippet", async () => {
    const [hit] = await search(mia, "pipeline");
    expect(hit).toMatchObject({ agent: { slug: "ada", name: "Ada" }, sessionKey: miasKey, title: "Meet Ada, the revenue forecaster", owner: { type: "user", id: mia.userId } });
    expect(hit!.snippet).toContain(`${SEARCH_MARK_START}pipeline${SEARCH_MARK_STOP}`);
    // Words are found by their start, all of them required; punctuation and tsquery syntax are just separators.
    expect((await search(mia, "forecast quart")).map((result) => result.sessionKey)).toEqual([miasKey]);
    expect((await search(mia, "forecast & | !lisbon:*")).map((result) => result.sessionKey)).toEqual([]);
    expect(await search(mia, "nothing-like-this-anywhere")).toEqual([]);
    expect(await search(mia, "«»")).toEqual([]);
  });

  it("indexes a busy chat once per usage read: three exchanges read together queue one job, and all three are found", async () => {
    const indexJobs = () => withTenant(platform.database.db, owner.tenantId, (trx) => trx.selectFrom("jobs").select("key").where("kind", "=", "session.index").execute());
    await settle();
    const before = (await indexJobs()).length;
    const key = await chat(max, "Inventory the warehouse in Porto", [{ kind: "text", text: "Counting pallets." }]);
    await chat(max, "Add the loading docks", [{ kind: "text", text: "Docks counted." }], key);
    await chat(max, "And the forklifts", [{ kind: "text", text: "Seven forklifts, two need service." }], key);
    await settle();
    expect((await indexJobs()).length - before).toBe(1);
    for (const words of ["pallets", "docks", "forklifts service"]) expect((await search(max, words)).map((result) => result.sessionKey)).toEqual([key]);
    expect((await sessionsOf(max)).find((session) => session.key === key)?.titleSource).toBe("generated");
  });

  it("shows a member only their own chats; owners and admins everyone's on request, audited", async () => {
    expect(await search(mia, "lisbon")).toEqual([]);
    expect((await search(max, "lisbon")).map((result) => result.sessionKey)).toEqual([maxsKey]);
    expect(await errorOf(await call("GET", "/api/search?q=lisbon&owner=all", as(mia)))).toMatchObject({ status: 403, code: "forbidden" });
    const all = await search(owner, "the", "&owner=all");
    expect(all.map((result) => result.owner.id).sort()).toEqual(expect.arrayContaining([mia.userId, max.userId]));
    expect(await search(owner, "lisbon")).toEqual([]);
    const audited = await withTenant(platform.database.db, owner.tenantId, (trx) => trx.selectFrom("audit_log").select(["action", "actor_user_id"]).where("action", "=", "session.search_all").execute());
    expect(audited).toEqual([{ action: "session.search_all", actor_user_id: owner.userId }]);
  });

  it("never finds another organisation's chats", async () => {
    await chat(outsider, "Lisbon offsite budget", [{ kind: "text", text: "Lisbon is lovely." }, { kind: "text", text: "Lisbon offsite" }], undefined, outsider.tenantId);
    await settle(outsider.tenantId);
    expect((await search(outsider, "lisbon", "", outsider.tenantId)).map((result) => result.title)).toEqual(["Lisbon offsite"]);
    expect((await search(owner, "lisbon", "&owner=all")).map((result) => result.sessionKey)).toEqual([maxsKey]);
  });

  it("follows renames and deletions at once, and validates the query", async () => {
    expect((await call("PATCH", `/api/agents/ada/sessions/${maxsKey}`, { ...as(max), body: { title: "Team trip" } })).status).toBe(200);
    expect((await search(max, "team trip")).map((result) => result.title)).toEqual(["Team trip"]);
    expect((await call("DELETE", `/api/agents/ada/sessions/${maxsKey}`, as(max))).status).toBe(204);
    expect(await search(max, "lisbon")).toEqual([]);
    expect(await errorOf(await call("GET", "/api/search?q=", as(max)))).toMatchObject({ status: 400, code: "validation_failed", message: expect.stringMatching(/^q:/) });
    expect(await errorOf(await call("GET", `/api/search?q=${"x".repeat(201)}`, as(max)))).toMatchObject({ status: 400, code: "validation_failed" });
  });
});
