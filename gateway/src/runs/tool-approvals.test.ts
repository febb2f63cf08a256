/**
 * Tool approvals (issue 15) on a real gateway against the fake Anthropic upstream: a call to a tool
 * in `ask` mode ends the run `paused` with a durable marker in the transcript, and a decision starts
 * the run that carries it out (or refuses it) and lets the model go on.
 */
import { access, readFile } from "node:fs/promises";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { ApiErrorBody, RunInfo, type TenantPolicy } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  approvalOf,
  approvalsGateway,
  decide,
  historyOf,
  journalRecords,
  modelRequest,
  sent,
  toolResultsSent,
  transcriptLines,
  workspaceFile,
} from "../test-support/approvals";
import { readRunEvents, replyText, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

let upstream: FakeUpstream;
const harnesses: TestGateway[] = [];
beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key" });
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  for (const harness of harnesses.splice(0)) await harness.cleanup();
  upstream.reset();
});

async function gateway(): Promise<TestGateway> {
  const harness = await approvalsGateway(upstream);
  harnesses.push(harness);
  expect((await harness.createAgent(TENANT_A)).status).toBe(201);
  return harness;
}

const WRITE_PLAN = { kind: "tool_use" as const, name: "write_file", id: "toolu_plan", input: { path: "plan.md", content: "Ship it" } };
const exists = (file: string) => access(file).then(() => true, () => false);

async function pushPolicy(h: TestGateway, limits: Partial<TenantPolicy["limits"]>) {
  const body: TenantPolicy = { version: 1, suspended: false, suspendedReason: null, limits: { maxConcurrentRuns: 4, maxQueuedRuns: 200, monthlyTokens: null, diskBytes: null, ...limits } };
  expect((await h.request("PUT", "/v1/tenant/policy", { body })).status).toBe(200);
}

describe("a tool in ask mode", () => {
  it("pauses the run: approval-required, run-end paused, a durable marker, a journal record, and no slot held", async () => {
    const h = await gateway();
    await pushPolicy(h, { maxConcurrentRuns: 1 });
    upstream.enqueue(WRITE_PLAN);
    const events = await sent(h, "Write the plan down");

    expect(events.map((event) => event.type)).toEqual(["run-start", "tool-call-start", "usage", "approval-required", "run-end"]);
    const approval = approvalOf(events);
    expect(approval).toMatchObject({ toolCallId: "toolu_plan", name: "write_file", input: { path: "plan.md", content: "Ship it" } });
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "paused" });
    expect(await exists(workspaceFile(h, "plan.md"))).toBe(false);
    const runId = events[0]!.runId;
    expect(RunInfo.parse(await (await h.request("GET", `/v1/runs/${runId}`)).json()).status).toBe("paused");

    // The pause lives in the transcript, after the call: the session (and its list entry) says what it waits on.
    const history = await historyOf(h);
    expect(history.pendingApproval).toMatchObject({ approvalId: approval.approvalId, runId, toolCallId: "toolu_plan", name: "write_file", input: { path: "plan.md" } });
    expect(history.session.pendingApproval).toEqual({ approvalId: approval.approvalId, runId, toolCallId: "toolu_plan", name: "write_file", requestedAt: approval.at });
    expect(history.entries.map((entry) => entry.type)).toEqual(["user", "assistant"]);
    const lines = await transcriptLines(h, history.session.sessionId);
    expect(lines.at(-1)).toMatchObject({ type: "approval-request", approvalId: approval.approvalId, runId, toolCallId: "toolu_plan", name: "write_file" });
    const listed = (await (await h.request("GET", "/v1/agents/ada/sessions")).json()) as { sessions: { pendingApproval?: { approvalId: string } }[] };
    expect(listed.sessions[0]?.pendingApproval?.approvalId).toBe(approval.approvalId);

    const [record] = await journalRecords(h, 1);
    expect(record).toMatchObject({
      runId,
      status: "paused",
      approval: { id: approval.approvalId, toolCallId: "toolu_plan", tool: "write_file", input: { path: "plan.md", content: "Ship it" }, requestedAt: approval.at },
    });
    expect(record?.approval?.inputTruncated).toBeUndefined();

    // The tenant may run one at a time: the paused run holds nothing, so another session's run goes through.
    upstream.enqueue({ kind: "text", text: "Meanwhile, done." });
    const other = await sent(h, "Something else", { sessionKey: "other" });
    expect(other.at(-1)).toMatchObject({ status: "ok" });
    expect(replyText(other)).toBe("Meanwhile, done.");
    expect(h.gateway.runs.load()).toMatchObject({ active: 0, waiting: 0 });
  });

  it("refuses a new message to the paused session with approval_pending naming the approval, writing nothing", async () => {
    const h = await gateway();
    upstream.enqueue(WRITE_PLAN);
    const approval = approvalOf(await sent(h, "Write the plan down"));
    const before = await historyOf(h);

    const refused = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "Hello?", sessionKey: "s" } });
    expect(refused.status).toBe(409);
    const body = ApiErrorBody.parse(await refused.json());
    expect(body.error.code).toBe("approval_pending");
    expect(body.error.message).toContain(approval.approvalId);
    // Hooks reach the session too, and are refused alike.
    const hooked = await h.request("POST", "/hooks/agent", { body: { agent: "ada", message: "Hello?", sessionKey: "s" } });
    expect(hooked.status).toBe(409);
    expect((await historyOf(h)).entries).toEqual(before.entries);
    expect(upstream.requests).toHaveLength(1);
  });

  it("carries the call out once approved, records who decided, and lets the model go on to its answer", async () => {
    const h = await gateway();
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "The plan is written." });
    const approval = approvalOf(await sent(h, "Write the plan down"));

    const response = await decide(h, approval.approvalId, { decision: "approve" }, { headers: { "x-workforce-user-id": "user-7" } });
    expect(response.status).toBe(200);
    const events = await readRunEvents(response);
    expect([...new Set(events.map((event) => event.type))]).toEqual(["run-start", "tool-call-end", "text-delta", "usage", "run-end"]);
    expect(events[1]).toMatchObject({ toolCallId: "toolu_plan", name: "write_file", isError: false });
    expect(replyText(events)).toBe("The plan is written.");
    expect(events.at(-1)).toMatchObject({ status: "ok" });
    expect(await readFile(workspaceFile(h, "plan.md"), "utf8")).toBe("Ship it");

    // The model got the call's result where the call was.
    expect(toolResultsSent(upstream, 1)).toEqual([expect.objectContaining({ tool_use_id: "toolu_plan", is_error: false })]);
    const history = await historyOf(h);
    expect(history.pendingApproval).toBeUndefined();
    expect(history.session.pendingApproval).toBeUndefined();
    expect(history.entries.map((entry) => entry.type)).toEqual(["user", "assistant", "tool-result", "assistant"]);
    expect(history.entries[2]).toMatchObject({ runId: events[0]!.runId, approval: { approvalId: approval.approvalId, decision: "approve", decidedBy: { userId: "user-7" } } });
    const lines = await transcriptLines(h, history.session.sessionId);
    expect(lines.map((line) => line.type)).toEqual(["user", "assistant", "approval-request", "approval-decision", "tool-result", "assistant"]);
    expect(lines[3]).toMatchObject({ approvalId: approval.approvalId, decision: "approve", runId: events[0]!.runId, decidedBy: { userId: "user-7" } });

    const records = await journalRecords(h, 2);
    expect(records[1]).toMatchObject({ runId: events[0]!.runId, status: "ok", userId: "user-7", resumes: { approvalId: approval.approvalId, decision: "approve" } });

    // The session takes messages again.
    upstream.enqueue({ kind: "text", text: "Anything else?" });
    expect((await sent(h, "Thanks")).at(-1)).toMatchObject({ status: "ok" });
  });

  it.each([
    { body: { decision: "deny", reason: "not today" }, says: ["The user denied this tool call", "not today"] },
    { body: { decision: "deny", timedOut: true, reason: "timeout" }, says: ["Nobody approved this tool call in time", "timeout"] },
  ])("gives the model a refusal it can read on $body.decision (timed out: $body.timedOut), and nothing runs", async ({ body, says }) => {
    const h = await gateway();
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Understood, I left it." });
    const approval = approvalOf(await sent(h, "Write the plan down"));

    // As the platform's job carries a decision out: fired by the approval, named in the usage record.
    const trigger = { kind: "approval", id: approval.approvalId };
    const events = await readRunEvents(await decide(h, approval.approvalId, { ...body, trigger }));
    const end = events.find((event) => event.type === "tool-call-end");
    expect(end).toMatchObject({ toolCallId: "toolu_plan", isError: true });
    expect(replyText(events)).toBe("Understood, I left it.");
    expect(await exists(workspaceFile(h, "plan.md"))).toBe(false);
    const [refusal] = toolResultsSent(upstream, 1);
    expect(refusal).toMatchObject({ tool_use_id: "toolu_plan", is_error: true });
    for (const text of says) expect(refusal?.content).toContain(text);
    expect((await historyOf(h)).entries[2]).toMatchObject({ approval: { decision: "deny", ...("timedOut" in body ? { timedOut: true } : {}), reason: body.reason } });
    const records = await journalRecords(h, 2);
    expect(records[1]?.resumes).toEqual({ approvalId: approval.approvalId, decision: "deny", ...("timedOut" in body ? { timedOut: true } : {}) });
    expect(records[1]).toMatchObject({ source: "schedule", trigger });
  });

  it("runs the calls of one turn in order: results before the pause are kept, and each later ask pauses again", async () => {
    const h = await gateway();
    upstream.enqueue(
      {
        kind: "tool_use",
        name: "read_file",
        id: "toolu_read",
        input: { path: "IDENTITY.md" },
        parallel: [
          { name: "write_file", id: "toolu_a", input: { path: "a.md", content: "A" } },
          { name: "write_file", id: "toolu_b", input: { path: "b.md", content: "B" } },
        ],
      },
      { kind: "text", text: "Both written." },
    );
    const first = await sent(h, "Write a and b");
    expect(first.filter((event) => event.type === "tool-call-end").map((event) => event.type === "tool-call-end" && event.toolCallId)).toEqual(["toolu_read"]);
    const a = approvalOf(first);
    expect(a.toolCallId).toBe("toolu_a");

    const second = await readRunEvents(await decide(h, a.approvalId, { decision: "approve" }));
    expect(second.at(-1)).toMatchObject({ status: "paused" });
    const b = approvalOf(second);
    expect(b).toMatchObject({ toolCallId: "toolu_b" });
    expect(b.approvalId).not.toBe(a.approvalId);
    expect(await readFile(workspaceFile(h, "a.md"), "utf8")).toBe("A");
    expect(await exists(workspaceFile(h, "b.md"))).toBe(false);
    // Carrying out a decided call asks the model nothing until the turn's calls are all answered.
    expect(upstream.requests).toHaveLength(1);

    const third = await readRunEvents(await decide(h, b.approvalId, { decision: "approve" }));
    expect(replyText(third)).toBe("Both written.");
    expect(await readFile(workspaceFile(h, "b.md"), "utf8")).toBe("B");
    // One turn, one answer: every call's result in one message, in the order of the calls.
    expect(toolResultsSent(upstream, 1).map((result) => result.tool_use_id)).toEqual(["toolu_read", "toolu_a", "toolu_b"]);
  });
});

describe("tool modes", () => {
  it("does not offer a tool in deny mode, and a call to it anyway is refused without running", async () => {
    const h = await gateway();
    upstream.enqueue({ kind: "tool_use", name: "write_file", id: "toolu_x", input: { path: "x.md", content: "x" } }, { kind: "text", text: "Could not." });
    const events = await sent(h, "Write x", { integrations: { toolModes: { write_file: "deny", read_file: "allow" } } });
    const offered = modelRequest(upstream, 0).tools.map((tool) => tool.name);
    expect(offered).not.toContain("write_file");
    expect(offered).toContain("read_file");
    expect(events.find((event) => event.type === "tool-call-end")).toMatchObject({ isError: true, output: "the write_file tool is turned off for this agent" });
    expect(await exists(workspaceFile(h, "x.md"))).toBe(false);
    expect(events.at(-1)).toMatchObject({ status: "ok" });
  });

  it("allows everything for runs without integrations (hooks, the OpenAI-compatible endpoint)", async () => {
    const h = await gateway();
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Written." });
    const events = await sent(h, "Write the plan down", { integrations: undefined });
    expect(events.some((event) => event.type === "approval-required")).toBe(false);
    expect(await readFile(workspaceFile(h, "plan.md"), "utf8")).toBe("Ship it");
  });
});

describe("deciding", () => {
  it("is idempotent: a repeated decision, even a different one, answers the run the first started", async () => {
    const h = await gateway();
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Done." });
    const approval = approvalOf(await sent(h, "Write the plan down"));
    const decideJson = (decision: string) => h.request("POST", `/v1/agents/ada/sessions/s/approvals/${approval.approvalId}`, { body: { decision } });

    const [one, two] = await Promise.all([decideJson("approve"), decideJson("approve")]);
    expect([one.status, two.status]).toEqual([202, 202]);
    const first = RunInfo.parse(await one.json());
    expect(RunInfo.parse(await two.json()).runId).toBe(first.runId);
    const events = await readRunEvents(await h.request("GET", `/v1/runs/${first.runId}/events`));
    expect(events.at(-1)).toMatchObject({ status: "ok" });
    // Decided: a late repeat (a retried platform job) still answers that run, whatever it says.
    const late = await decideJson("deny");
    expect(late.status).toBe(202);
    expect(RunInfo.parse(await late.json())).toMatchObject({ runId: first.runId, status: "ok" });
    const lines = await transcriptLines(h, first.sessionId);
    expect(lines.filter((line) => line.type === "approval-decision")).toHaveLength(1);
    expect(upstream.requests).toHaveLength(2);
  });

  it("answers 404 for an unknown approval or another tenant's, and 409 approval_not_pending once decided and forgotten", async () => {
    const h = await gateway();
    expect((await h.createAgent(TENANT_B)).status).toBe(201);
    upstream.enqueue(WRITE_PLAN, { kind: "text", text: "Done." });
    const approval = approvalOf(await sent(h, "Write the plan down"));

    const unknown = await h.request("POST", "/v1/agents/ada/sessions/s/approvals/no-such-approval", { body: { decision: "approve" } });
    expect(unknown.status).toBe(404);
    expect(ApiErrorBody.parse(await unknown.json()).error.code).toBe("approval_not_found");
    const foreign = await h.request("POST", `/v1/agents/ada/sessions/s/approvals/${approval.approvalId}`, { tenant: TENANT_B, body: { decision: "approve" } });
    expect(foreign.status).toBe(404);
    expect(ApiErrorBody.parse(await foreign.json()).error.code).toBe("session_not_found");
    const invalid = await h.request("POST", `/v1/agents/ada/sessions/s/approvals/${approval.approvalId}`, { body: { decision: "approve", timedOut: true } });
    expect(invalid.status).toBe(400);
    expect(await exists(workspaceFile(h, "plan.md"))).toBe(false);

    await readRunEvents(await decide(h, approval.approvalId, { decision: "approve" }));
    // A gateway that never knew the decision's run (a restart) tells the caller it was decided.
    const restarted = await approvalsGateway(upstream, { dataDir: h.dataDir });
    harnesses.unshift(restarted);
    const again = await restarted.request("POST", `/v1/agents/ada/sessions/s/approvals/${approval.approvalId}`, { body: { decision: "deny" } });
    expect(again.status).toBe(409);
    const error = ApiErrorBody.parse(await again.json()).error;
    expect(error).toMatchObject({ code: "approval_not_pending" });
    expect(error.message).toContain("already approved");
  });
});
