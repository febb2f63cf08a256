/**
 * Tool approvals the whole way, on the real gateway process with the fake Anthropic upstream: an
 * agent whose `write_file` is `ask` pauses a chat at the call; the platform shows the approval to
 * the session's owner at once; approving runs the call and the reply goes on, denying (or nobody
 * deciding before the timeout, in fake time) gives the model the refusal; a gateway restarted
 * while a session waits still holds the pause, and a second platform process on the same database
 * approves it.
 */
import { rm } from "node:fs/promises";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { ApprovalEnvelope, OwnedSessionHistory, type ApprovalView } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../db/scopes";
import { tenantEventsAfter } from "../jobs/tenant-events";
import { startGatewayProcess, type GatewayProcess } from "../test-support/gateway-process";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";

const HOOK_TOKEN = "approvals-real-gateway-hook-token";
const MODEL_KEY = "approvals-model-key";
let upstream: FakeUpstream;
let gateway: GatewayProcess;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let clock = new Date();
type Person = { token: string; userId: string; tenantId: string };
let owner: Person;
let mia: Person;
let max: Person;
let outsider: Person;

const as = (who: Person) => ({ token: who.token, headers: { "x-tenant-id": owner.tenantId } });
const gatewayEnv = () => ({ ANTHROPIC_API_KEY: MODEL_KEY, ANTHROPIC_BASE_URL: upstream.url, WORKFORCE_DEFAULT_MODEL: "claude-fake-1" });

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: MODEL_KEY });
  gateway = await startGatewayProcess({ hookToken: HOOK_TOKEN, env: gatewayEnv() });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN, now: () => clock, parts: { approvalTimeoutMinutes: 5 } });
  call = caller(platform);
  owner = await signUp(platform, "olga@real-approvals.example");
  mia = await joinAs(platform, owner, "mia@real-approvals.example", "member");
  max = await joinAs(platform, owner, "max@real-approvals.example", "member");
  outsider = await signUp(platform, "otto@elsewhere.example");
  expect((await call("POST", "/api/agents", { ...as(owner), body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
  expect((await call("PUT", "/api/agents/ada/tool-modes", { ...as(owner), body: { modes: { write_file: "ask" } } })).status).toBe(200);
}, 120_000);
let leftDataDir: string | undefined;
afterAll(async () => {
  await platform?.close();
  await gateway?.stop();
  await upstream?.close();
  if (leftDataDir) await rm(leftDataDir, { recursive: true, force: true });
});

/** Mia asks for a note; the model calls write_file, which waits for a decision. */
async function pausedChat(text: string, via = platform): Promise<{ sessionKey: string; runId: string; approvalId: string; stream: string }> {
  upstream.setScript([{ kind: "tool_use", name: "write_file", input: { path: "notes/today.md", content: text } }, { kind: "text", text: `Saved: ${text}` }]);
  const sent = await sendMessage(caller(via), { ...as(mia), agent: "ada", message: `Write down: ${text}` });
  expect(sent.status).toBe(200);
  expect(sent.text).toContain("event: approval-required");
  expect(sent.text).toMatch(/"type":"run-end","status":"paused"/);
  const approvalId = /"approvalId":"([^"]+)"/.exec(sent.text)![1]!;
  return { sessionKey: sent.sessionKey!, runId: sent.runId!, approvalId, stream: sent.text };
}

/** Reads a run's events until it ends, through the platform (as the chat follows the run a decision started). */
async function followRun(runId: string, via = platform): Promise<string> {
  const response = await caller(via)("GET", `/api/runs/${runId}/events?after=0`, as(mia));
  expect(response.status).toBe(200);
  return response.text();
}

/** The reply's text in an SSE answer. */
const replyOf = (sse: string) => [...sse.matchAll(/"type":"text-delta","delta":("(?:[^"\\]|\\.)*")/g)].map((match) => JSON.parse(match[1]!) as string).join("");

async function decide(who: Person, id: string, decision: "approve" | "deny", reason?: string, via = platform): Promise<ApprovalView> {
  const response = await caller(via)("POST", `/api/approvals/${id}/${decision}`, { ...as(who), body: reason ? { reason } : {} });
  expect(response.status).toBe(200);
  return ApprovalEnvelope.parse(await response.json()).approval;
}

/** What the model was told about the call in the request that followed the decision. */
function toolResultSentToModel(toolCallId: string): { content: unknown; is_error?: boolean } | undefined {
  for (const request of [...upstream.requests].reverse()) {
    const messages = (request.body as { messages?: { content: unknown }[] } | undefined)?.messages ?? [];
    for (const message of messages) {
      if (!Array.isArray(message.content)) continue;
      const block = (message.content as { type: string; tool_use_id?: string; content?: unknown; is_error?: boolean }[]).find((each) => each.type === "tool_result" && each.tool_use_id === toolCallId);
      if (block) return { content: block.content, ...(block.is_error === undefined ? {} : { is_error: block.is_error }) };
    }
  }
  return undefined;
}

describe("a tool call in ask mode", () => {
  it("pauses the chat and shows at once as an approval of Mia's, with its event; approving runs the call and the reply goes on", async () => {
    const paused = await pausedChat("buy milk");
    // Recorded from the stream as it passed: the inbox counts it within moments, no journal read needed.
    const count = async () => ((await (await call("GET", "/api/approvals/count", as(mia))).json()) as { pending: number }).pending;
    for (let tries = 0; (await count()) === 0 && tries < 50; tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await count()).toBe(1);
    const shown = ApprovalEnvelope.parse(await (await call("GET", `/api/approvals/${paused.approvalId}`, as(mia))).json()).approval;
    expect(shown).toMatchObject({ agent: "ada", sessionKey: paused.sessionKey, runId: paused.runId, tool: "write_file", input: { path: "notes/today.md", content: "buy milk" }, status: "pending" });
    // The session takes no message meanwhile (the gateway's 409).
    expect(await errorOf(await call("POST", "/api/agents/ada/messages", { ...as(mia), body: { message: "hello?", sessionKey: paused.sessionKey } }))).toMatchObject({ status: 409, code: "approval_pending" });
    // Nobody else in the organisation sees or decides it but the owners and admins; no other organisation.
    expect(await errorOf(await call("POST", `/api/approvals/${paused.approvalId}/approve`, as(max)))).toMatchObject({ status: 404, code: "approval_not_found" });
    expect(await errorOf(await call("POST", `/api/approvals/${paused.approvalId}/approve`, { token: outsider.token }))).toMatchObject({ status: 404, code: "approval_not_found" });

    const approved = await decide(mia, paused.approvalId, "approve");
    expect(approved).toMatchObject({ status: "approved", decidedBy: { type: "user", id: mia.userId }, resume: { runId: expect.any(String), error: null } });
    const carriedOn = await followRun(approved.resume.runId!);
    expect(carriedOn).toContain('"type":"tool-call-end"');
    expect(replyOf(carriedOn)).toBe("Saved: buy milk");
    expect(carriedOn).toMatch(/"type":"run-end","status":"ok"/);
    expect(toolResultSentToModel(shown.toolCallId)?.is_error).not.toBe(true);

    // The file was written, and the session's history says who approved the call.
    const history = OwnedSessionHistory.parse(await (await call("GET", `/api/agents/ada/sessions/${paused.sessionKey}`, as(mia))).json());
    expect(history.pendingApproval).toBeUndefined();
    const result = history.entries.find((entry) => entry.type === "tool-result" && entry.toolCallId === shown.toolCallId);
    expect(result).toMatchObject({ isError: false, approval: { decision: "approve", decidedBy: { userId: mia.userId } } });

    // Decided once; the audit log names who.
    expect(await errorOf(await call("POST", `/api/approvals/${paused.approvalId}/deny`, as(owner)))).toMatchObject({ status: 409, code: "approval_already_decided" });
    const audit = (await (await call("GET", "/api/audit?action=approval.approve", as(owner))).json()) as { entries: { target: string; actor: { id: string } }[] };
    expect(audit.entries.filter((entry) => entry.target === paused.approvalId).map((entry) => entry.actor.id)).toEqual([mia.userId]);
    // The journal read later finds it there: one approval, one event.
    await platform.ingest.sync(owner.tenantId);
    const events = await withTenant(platform.database.db, owner.tenantId, (trx) => tenantEventsAfter(trx, owner.tenantId, 0));
    expect(events.filter((event) => event.type === "approval.required" && event.data.approvalId === paused.approvalId)).toHaveLength(1);
    expect(events.some((event) => event.type === "run.completed" && event.data.runId === approved.resume.runId)).toBe(true);
  }, 60_000);

  it("denied, gives the model a refusal with the reason, and the run goes on", async () => {
    const paused = await pausedChat("sell the car");
    const shown = ApprovalEnvelope.parse(await (await call("GET", `/api/approvals/${paused.approvalId}`, as(owner))).json()).approval;
    const denied = await decide(owner, paused.approvalId, "deny", "Ask me first");
    const carriedOn = await followRun(denied.resume.runId!);
    expect(carriedOn).toMatch(/"type":"run-end","status":"ok"/);
    const told = toolResultSentToModel(shown.toolCallId);
    expect(told?.is_error).toBe(true);
    expect(JSON.stringify(told?.content)).toMatch(/denied/i);
    expect(JSON.stringify(told?.content)).toContain("Ask me first");
  }, 60_000);

  it("not decided before the timeout, is denied as the platform's and the model is told nobody approved it", async () => {
    const paused = await pausedChat("call the bank");
    const shown = ApprovalEnvelope.parse(await (await call("GET", `/api/approvals/${paused.approvalId}`, as(mia))).json()).approval;
    clock = new Date(new Date(shown.expiresAt).getTime() + 1_000);
    await platform.jobs.runDue();
    const expired = ApprovalEnvelope.parse(await (await call("GET", `/api/approvals/${paused.approvalId}`, as(mia))).json()).approval;
    expect(expired).toMatchObject({ status: "expired", reason: "timeout", decidedBy: { type: "system" }, resume: { runId: expect.any(String), error: null } });
    const carriedOn = await followRun(expired.resume.runId!);
    expect(carriedOn).toMatch(/"type":"run-end","status":"ok"/);
    const told = toolResultSentToModel(shown.toolCallId);
    expect(told?.is_error).toBe(true);
    expect(JSON.stringify(told?.content)).toMatch(/in time/i);
    const audit = (await (await call("GET", "/api/audit?action=approval.expire", as(owner))).json()) as { entries: { target: string; actor: { id: string | null } }[] };
    expect(audit.entries.filter((entry) => entry.target === paused.approvalId).map((entry) => entry.actor.id)).toEqual([null]);
  }, 60_000);

  it("survives a gateway restart while paused, and is approved from a second platform process on the same database", async () => {
    const paused = await pausedChat("water the plants");
    const dataDir = gateway.dataDir;
    // Stopped as a crash or a deploy would, keeping its data dir (its own stop() would delete it).
    const exited = new Promise((resolve) => gateway.child.once("exit", resolve));
    gateway.child.kill("SIGTERM");
    await exited;
    leftDataDir = dataDir;
    const restarted = await startGatewayProcess({ hookToken: HOOK_TOKEN, dataDir, env: gatewayEnv() });
    const second = await createTestPlatform({ gatewayUrl: restarted.url, hookToken: HOOK_TOKEN, database: platform.database, now: () => clock });
    try {
      const history = OwnedSessionHistory.parse(await (await caller(second)("GET", `/api/agents/ada/sessions/${paused.sessionKey}`, as(mia))).json());
      expect(history.pendingApproval).toMatchObject({ approvalId: paused.approvalId, name: "write_file" });
      const approved = await decide(owner, paused.approvalId, "approve", undefined, second);
      expect(approved.decidedBy).toMatchObject({ type: "user", id: owner.userId });
      const carriedOn = await followRun(approved.resume.runId!, second);
      expect(replyOf(carriedOn)).toBe("Saved: water the plants");
      expect(carriedOn).toMatch(/"type":"run-end","status":"ok"/);
    } finally {
      await second.close();
      // The rest of the suite (and afterAll) go on with the restarted gateway.
      gateway = restarted;
    }
  }, 90_000);
});
