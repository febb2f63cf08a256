/**
 * Tool approvals on the platform against the fake gateway, which journals paused runs and takes
 * decisions as the real one does (approval-real-gateway.test.ts runs the whole way on the real
 * gateway process): a paused run becomes one approval the session's owner and the admins see and
 * nobody else does; a decision is made once, audited with who, and handed to the gateway with the
 * decider and the agent's integrations; an approval nobody decides is denied at its timeout; the
 * live updates tell each listener what it may see.
 */
import { ApprovalEnvelope, ApprovalList, ApprovalsChanged, SseParser, type ApprovalView } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTenant } from "../db/scopes";
import { tenantEventsAfter } from "../jobs/tenant-events";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
let clock = new Date("2030-01-01T09:00:00.000Z");
type Person = { token: string; userId: string; tenantId: string };
let owner: Person;
let admin: Person;
let mia: Person;
let max: Person;
let outsider: Person;
let miasSession: string;

const as = (who: Person) => ({ token: who.token, headers: { "x-tenant-id": owner.tenantId } });

beforeAll(async () => {
  gateway = await startFakeGateway();
  platform = await createTestPlatform({ gatewayUrl: gateway.url, now: () => clock, parts: { approvalTimeoutMinutes: 30, approvalPollMs: 20 } });
  call = caller(platform);
  owner = await signUp(platform, "olga@approvals.example");
  admin = await joinAs(platform, owner, "adam@approvals.example", "admin");
  mia = await joinAs(platform, owner, "mia@approvals.example", "member");
  max = await joinAs(platform, owner, "max@approvals.example", "member");
  outsider = await signUp(platform, "otto@elsewhere.example");
  expect((await call("POST", "/api/agents", { ...as(owner), body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
  const chat = await sendMessage(call, { ...as(mia), agent: "ada", message: "Tidy my notes" });
  miasSession = chat.sessionKey!;
}, 60_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.close();
});

/** A run of Mia's session pauses at a tool call; the platform reads the journal. */
async function pauseMiasRun(tool = "write_file", input: unknown = { path: "notes.md", content: "tidy" }): Promise<string> {
  const { approvalId } = gateway.pauseRun(owner.tenantId, "ada", miasSession, { tool, input, requestedAt: clock });
  await platform.ingest.sync(owner.tenantId);
  return approvalId;
}

async function approvalOf(who: Person, id: string): Promise<ApprovalView> {
  const response = await call("GET", `/api/approvals/${id}`, as(who));
  expect(response.status).toBe(200);
  return ApprovalEnvelope.parse(await response.json()).approval;
}

const pendingOf = async (who: Person) => ((await (await call("GET", "/api/approvals/count", as(who))).json()) as { pending: number }).pending;

describe("an approval", () => {
  it("is recorded once from the journal, with its event and expiry, for the session's owner and the admins only", async () => {
    const before = await pendingOf(mia);
    const id = await pauseMiasRun();
    await platform.ingest.sync(owner.tenantId);
    const approval = await approvalOf(mia, id);
    expect(approval).toMatchObject({
      id,
      agent: "ada",
      sessionKey: miasSession,
      sessionOwner: { type: "user", id: mia.userId, email: "mia@approvals.example" },
      tool: "write_file",
      input: { path: "notes.md", content: "tidy" },
      inputTruncated: false,
      status: "pending",
      requestedAt: clock.toISOString(),
      expiresAt: new Date(clock.getTime() + 30 * 60_000).toISOString(),
      decidedBy: null,
      resume: { runId: null, error: null },
    });
    expect(await pendingOf(mia)).toBe(before + 1);
    expect(await pendingOf(owner)).toBe(before + 1);
    expect(await pendingOf(admin)).toBe(before + 1);
    // A colleague neither sees nor counts it; another organisation does not either.
    expect(await pendingOf(max)).toBe(0);
    expect(await errorOf(await call("GET", `/api/approvals/${id}`, as(max)))).toMatchObject({ status: 404, code: "approval_not_found" });
    expect(await errorOf(await call("GET", `/api/approvals/${id}`, { token: outsider.token }))).toMatchObject({ status: 404, code: "approval_not_found" });
    expect(ApprovalList.parse(await (await call("GET", "/api/approvals", as(max))).json())).toEqual({ approvals: [], pending: 0 });
    const events = await withTenant(platform.database.db, owner.tenantId, (trx) => tenantEventsAfter(trx, owner.tenantId, 0));
    expect(events.filter((event) => event.type === "approval.required" && event.data.approvalId === id)).toEqual([
      expect.objectContaining({ data: expect.objectContaining({ agent: "ada", sessionKey: miasSession, tool: "write_file" }) }),
    ]);
    expect(JSON.stringify(events)).not.toContain("tidy");
  });

  it("is decided once by the session's owner: audited, handed to the gateway as theirs with the agent's tool modes", async () => {
    expect((await call("PUT", "/api/agents/ada/tool-modes", { ...as(owner), body: { modes: { write_file: "ask", list_files: "deny" } } })).status).toBe(200);
    const id = await pauseMiasRun();
    // A colleague may not decide it (it does not exist for them), an admin could, the owner does.
    expect(await errorOf(await call("POST", `/api/approvals/${id}/approve`, as(max)))).toMatchObject({ status: 404, code: "approval_not_found" });
    const approved = await call("POST", `/api/approvals/${id}/approve`, as(mia));
    expect(approved.status).toBe(200);
    const { approval } = ApprovalEnvelope.parse(await approved.json());
    expect(approval).toMatchObject({ status: "approved", decidedBy: { type: "user", id: mia.userId, label: "mia@approvals.example" }, decidedAt: clock.toISOString() });
    const delivered = gateway.decisions.find((decision) => decision.approvalId === id);
    expect(delivered).toMatchObject({ agent: "ada", sessionKey: miasSession, actor: { userId: mia.userId }, body: { decision: "approve", trigger: { kind: "approval", id }, integrations: expect.objectContaining({ toolModes: { write_file: "ask", list_files: "deny" } }) } });
    expect(approval.resume.runId).toBe(delivered!.runId);

    const second = await call("POST", `/api/approvals/${id}/deny`, as(admin));
    expect(await errorOf(second)).toMatchObject({ status: 409, code: "approval_already_decided", message: expect.stringContaining("approved") });
    const audit = (await (await call("GET", "/api/audit?action=approval.approve", as(owner))).json()) as { entries: { target: string; actor: { id: string }; details: Record<string, unknown> }[] };
    expect(audit.entries.filter((entry) => entry.target === id)).toEqual([expect.objectContaining({ actor: expect.objectContaining({ id: mia.userId }), details: expect.objectContaining({ tool: "write_file", sessionKey: miasSession }) })]);
    // The resume job finds it delivered and changes nothing.
    await platform.jobs.runDue();
    expect(gateway.decisions.filter((decision) => decision.approvalId === id)).toHaveLength(1);
  });

  it("is denied by an admin with a reason the model is given, and shows in the history", async () => {
    const id = await pauseMiasRun("web_fetch", { url: "https://example.com" });
    clock = new Date(clock.getTime() + 60_000);
    const denied = await call("POST", `/api/approvals/${id}/deny`, { ...as(admin), body: { reason: "Not that site" } });
    expect(denied.status).toBe(200);
    expect(gateway.decisions.find((decision) => decision.approvalId === id)).toMatchObject({ actor: { userId: admin.userId }, body: { decision: "deny", reason: "Not that site" } });
    const history = ApprovalList.parse(await (await call("GET", "/api/approvals?status=decided", as(mia))).json());
    expect(history.approvals[0]).toMatchObject({ id, status: "denied", reason: "Not that site", decidedBy: { type: "user", id: admin.userId } });
  });

  it("nobody decides is denied at its timeout as the platform's, audited, and the run told so", async () => {
    const id = await pauseMiasRun();
    clock = new Date(clock.getTime() + 29 * 60_000);
    await platform.jobs.runDue();
    expect((await approvalOf(mia, id)).status).toBe("pending");
    clock = new Date(clock.getTime() + 2 * 60_000);
    await platform.jobs.runDue();
    const expired = await approvalOf(mia, id);
    expect(expired).toMatchObject({ status: "expired", reason: "timeout", decidedBy: { type: "system", id: null }, resume: { runId: expect.any(String), error: null } });
    expect(gateway.decisions.find((decision) => decision.approvalId === id)).toMatchObject({ actor: {}, body: { decision: "deny", timedOut: true, reason: "timeout" } });
    const audit = (await (await call("GET", "/api/audit?action=approval.expire", as(owner))).json()) as { entries: { target: string; actor: { id: string | null } }[] };
    expect(audit.entries.filter((entry) => entry.target === id)).toEqual([expect.objectContaining({ actor: expect.objectContaining({ id: null }) })]);
    expect(await errorOf(await call("POST", `/api/approvals/${id}/approve`, as(mia)))).toMatchObject({ status: 409, code: "approval_already_decided" });
  });

  it("keeps long arguments readable but bounded, and records one the chat stream shows before the journal is read", async () => {
    const id = await pauseMiasRun("write_file", { path: "big.md", content: "x".repeat(20_000) });
    const big = await approvalOf(mia, id);
    expect(big.inputTruncated).toBe(true);
    expect(typeof big.input === "string" && big.input.length).toBe(8_000);

    const cursor = () => withTenant(platform.database.db, owner.tenantId, async (trx) => (await trx.selectFrom("usage_ingest_cursors").select("journal_offset").executeTakeFirst())?.journal_offset);
    const streamed = await sendMessage(call, { ...as(mia), agent: "ada", sessionKey: miasSession, message: "Save it [[ask:write_file]]" });
    expect(streamed.text).toContain("event: approval-required");
    const approvalId = /"approvalId":"([^"]+)"/.exec(streamed.text)![1]!;
    // Recorded from the stream, with no journal read.
    const stored = async () => withTenant(platform.database.db, owner.tenantId, (trx) => trx.selectFrom("approvals").select(["status", "tool", "run_id"]).where("id", "=", approvalId).executeTakeFirst());
    for (let tries = 0; !(await stored()) && tries < 100; tries += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await stored()).toEqual({ status: "pending", tool: "write_file", run_id: streamed.runId });
    // Its journal line is still past the platform's cursor: not read yet.
    const unread = (await (await fetch(`${gateway.url}/v1/usage/journal?after=${Number((await cursor()) ?? 0)}`, { headers: { "x-tenant-id": owner.tenantId } })).json()) as { entries: { record: { approval?: { id: string } } }[] };
    expect(unread.entries.map((entry) => entry.record.approval?.id)).toContain(approvalId);
    await platform.ingest.sync(owner.tenantId);
    const events = await withTenant(platform.database.db, owner.tenantId, (trx) => tenantEventsAfter(trx, owner.tenantId, 0));
    expect(events.filter((event) => event.data.approvalId === approvalId)).toHaveLength(1);
  });
});

describe("tool modes", () => {
  it("are shown to everyone, changed by owners and admins only, and travel with every run", async () => {
    const view = (await (await call("GET", "/api/agents/ada/tool-modes", as(mia))).json()) as { tools: { name: string; kind: string; mode: string }[] };
    expect(view.tools.map((tool) => [tool.name, tool.kind, tool.mode])).toEqual([
      ["read_file", "workspace", "allow"],
      ["write_file", "workspace", "ask"],
      ["list_files", "workspace", "deny"],
      ["search_files", "workspace", "allow"],
      ["append_memory", "workspace", "allow"],
      ["web_fetch", "web", "deny"],
      ["web_search", "web", "deny"],
    ]);
    expect(await errorOf(await call("PUT", "/api/agents/ada/tool-modes", { ...as(mia), body: { modes: { read_file: "deny" } } }))).toMatchObject({ status: 403, code: "forbidden" });
    expect(await errorOf(await call("PUT", "/api/agents/ada/tool-modes", { ...as(admin), body: { modes: { mcp__crm__delete: "deny" } } }))).toMatchObject({ status: 400, code: "validation_failed" });
    const changed = await call("PUT", "/api/agents/ada/tool-modes", { ...as(admin), body: { modes: { web_fetch: "ask", list_files: "allow" } } });
    expect(changed.status).toBe(200);
    // A web tool's mode is its grant: the Tools panel's web section shows it too.
    const tools = (await (await call("GET", "/api/agents/ada/tools", as(admin))).json()) as { web: { name: string; mode: string | null }[] };
    expect(tools.web.find((tool) => tool.name === "web_fetch")?.mode).toBe("ask");
    const sent = await sendMessage(call, { ...as(max), agent: "ada", message: "hello" });
    expect(gateway.runs.get(sent.runId!)?.integrations).toMatchObject({ toolModes: { write_file: "ask", list_files: "allow", web_fetch: "ask" } });
  });
});

describe("live updates", () => {
  it("tell each listener its pending count at once, and the approvals it may see as they come and go", async () => {
    const listen = async (who: Person) => {
      const response = await call("GET", "/api/approvals/events", as(who));
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toContain("text/event-stream");
      const reader = response.body!.getReader();
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const queue: ApprovalsChanged[] = [];
      const next = async (): Promise<ApprovalsChanged> => {
        while (queue.length === 0) {
          const { value, done } = await reader.read();
          if (done) throw new Error("the stream ended");
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            if (message.event === "approvals") queue.push(ApprovalsChanged.parse(JSON.parse(message.data)));
          }
        }
        const got = queue.shift()!;
        if (process.env.DEBUG_APPROVALS) console.log(JSON.stringify(got.changed.map((a) => [a.id, a.status, a.resume])), got.pending);
        return got;
      };
      return { next, close: () => reader.cancel() };
    };
    const mias = await listen(mia);
    const maxs = await listen(max);
    const first = await mias.next();
    expect(first.changed).toEqual([]);
    expect(await maxs.next()).toEqual({ pending: 0, changed: [] });

    const id = await pauseMiasRun("write_file", { path: "live.md" });
    const arrived = await mias.next();
    expect(arrived.pending).toBe(first.pending + 1);
    expect(arrived.changed.map((approval) => approval.id)).toEqual([id]);
    // Decided through another platform process on the same database: this one's listeners hear it too.
    const other = await createTestPlatform({ gatewayUrl: gateway.url, database: platform.database, now: () => clock });
    try {
      expect((await caller(other)("POST", `/api/approvals/${id}/approve`, as(owner))).status).toBe(200);
    } finally {
      await other.close();
    }
    const decided = await mias.next();
    expect(decided.pending).toBe(first.pending);
    expect(decided.changed[0]).toMatchObject({ id, status: "approved" });
    await mias.close();
    await maxs.close();
  });
});
