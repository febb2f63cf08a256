import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSystem } from "../db/scopes";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { sendMessage } from "../test-support/send-message";
import { caller, createTestPlatform, errorOf, joinAs, signUp, type TestPlatform } from "../test-support/test-platform";
import type { AuditEntryView } from "./audit-log";

let gateway: FakeGateway;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
type Person = { token: string; userId: string; tenantId: string };
let ada: Person;
let mia: Person;
let max: Person;
let adam: Person;
let adasChat: string;

const as = (who: Person) => ({ token: who.token, headers: { "x-tenant-id": ada.tenantId } });

beforeAll(async () => {
  gateway = await startFakeGateway({ reply: "I am Ada." });
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  call = caller(platform);
  ada = await signUp(platform, "ada@example.com");
  mia = await joinAs(platform, ada, "mia@example.com", "member");
  max = await joinAs(platform, ada, "max@example.com", "member");
  adam = await joinAs(platform, ada, "adam@example.com", "admin");
  await call("POST", "/api/agents", { token: ada.token, body: { name: "Ada", role: "Analyst" } });
  adasChat = (await sendMessage(call, { ...as(ada), agent: "ada" })).sessionKey!;
});
afterAll(async () => {
  await platform.close();
  await gateway.close();
});

async function sessionKeys(who: Person, query = ""): Promise<string[]> {
  const response = await call("GET", `/api/agents/ada/sessions${query}`, as(who));
  expect(response.status).toBe(200);
  return ((await response.json()) as { sessions: { key: string }[] }).sessions.map((session) => session.key);
}

async function auditActions(prefix: string): Promise<AuditEntryView[]> {
  const response = await call("GET", `/api/audit?action=${prefix}`, as(ada));
  return ((await response.json()) as { entries: AuditEntryView[] }).entries;
}

describe("sessions", () => {
  it("renames and deletes through the gateway", async () => {
    const key = (await sendMessage(call, { ...as(ada), agent: "ada" })).sessionKey!;
    const renamed = await call("PATCH", `/api/agents/ada/sessions/${key}`, { ...as(ada), body: { title: "Intro" } });
    expect(((await renamed.json()) as { session: { title: string } }).session.title).toBe("Intro");
    const empty = await call("PATCH", `/api/agents/ada/sessions/${key}`, { ...as(ada), body: { title: "" } });
    expect((await errorOf(empty)).message).toMatch(/^title:/);
    expect((await call("DELETE", `/api/agents/ada/sessions/${key}`, as(ada))).status).toBe(204);
    expect((await call("DELETE", "/api/agents/ada/sessions/nope", as(ada))).status).toBe(404);
    expect(await sessionKeys(ada)).not.toContain(key);
  });

  it("exports a session as JSON", async () => {
    const response = await call("GET", `/api/agents/ada/sessions/${adasChat}/export?format=json`, as(ada));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="ada-${adasChat}.json"`);
    const body = (await response.json()) as { session: { key: string }; entries: unknown[] };
    expect(body.session.key).toBe(adasChat);
    expect(body.entries).toHaveLength(3);
  });

  it("exports a session as Markdown", async () => {
    const response = await call("GET", `/api/agents/ada/sessions/${adasChat}/export?format=markdown`, as(ada));
    expect(response.headers.get("content-type")).toMatch(/^text\/markdown/);
    expect(response.headers.get("content-disposition")).toBe(`attachment; filename="ada-${adasChat}.md"`);
    const text = await response.text();
    expect(text).toContain("# Who are you?");
    expect(text).toContain("## You · 2025-01-01T00:00:00.000Z\n\nWho are you?");
    expect(text).toContain("## Ada · 2025-01-01T00:00:01.000Z\n\nI am Ada.");
    expect(text).toContain("**Tool call** `read_file`");
    expect(text).toContain("**Tool result** `read_file`\n\n```\nI am ada\n```");
  });

  it("rejects an unknown export format naming the field", async () => {
    const response = await call("GET", `/api/agents/ada/sessions/${adasChat}/export?format=pdf`, as(ada));
    expect((await errorOf(response)).message).toMatch(/^format:/);
  });
});

describe("session ownership", () => {
  it("starts a new session of the sender's when no key is given, and lists only one's own", async () => {
    const first = await sendMessage(call, { ...as(mia), agent: "ada" });
    expect(first.status).toBe(200);
    expect(first.sessionKey).toMatch(/^[0-9a-f-]{36}$/);
    const second = await sendMessage(call, { ...as(mia), agent: "ada", sessionKey: first.sessionKey });
    expect(second.sessionKey).toBe(first.sessionKey);
    expect(await sessionKeys(mia)).toEqual([first.sessionKey]);
    expect(await sessionKeys(max)).not.toContain(first.sessionKey);
    expect(await sessionKeys(ada)).toEqual([adasChat]);
    const listed = (await (await call("GET", "/api/agents/ada/sessions", as(mia))).json()) as { sessions: { owner: unknown }[] };
    expect(listed.sessions[0]!.owner).toEqual({ type: "user", id: mia.userId, email: "mia@example.com" });
  });

  it("hides a colleague's session from a member (404) and lets an admin read it, audited, but not write in it", async () => {
    const { sessionKey } = await sendMessage(call, { ...as(mia), agent: "ada", message: "My private question" });
    const path = `/api/agents/ada/sessions/${sessionKey}`;
    for (const [method, suffix, body] of [
      ["GET", "", undefined],
      ["GET", "/export?format=markdown", undefined],
      ["PATCH", "", { title: "Mine now" }],
      ["DELETE", "", undefined],
    ] as const) {
      const response = await call(method, `${path}${suffix}`, { ...as(max), body });
      expect({ method, suffix, ...(await errorOf(response)) }).toMatchObject({ method, suffix, status: 404, code: "session_not_found" });
    }
    const intrusion = await sendMessage(call, { ...as(max), agent: "ada", sessionKey });
    expect(intrusion.status).toBe(404);

    const read = await call("GET", path, as(adam));
    expect(read.status).toBe(200);
    expect(((await read.json()) as { owner: unknown }).owner).toEqual({ type: "user", id: mia.userId, email: "mia@example.com" });
    const reads = await auditActions("session.read");
    expect(reads[0]).toMatchObject({ target: `ada/${sessionKey}`, actor: { id: adam.userId }, details: { owner: { type: "user", id: mia.userId } } });
    expect((await errorOf(await call("PATCH", path, { ...as(adam), body: { title: "x" } }))).code).toBe("forbidden");
    expect((await sendMessage(call, { ...as(adam), agent: "ada", sessionKey })).status).toBe(403);
    // A read by the owner herself is not audited.
    const before = (await auditActions("session.read")).length;
    expect((await call("GET", path, as(mia))).status).toBe(200);
    expect(await auditActions("session.read")).toHaveLength(before);
  });

  it("lists everyone's sessions with their owners for admins (owner=all, audited), never for members", async () => {
    const { sessionKey } = await sendMessage(call, { ...as(max), agent: "ada" });
    gateway.createSession(ada.tenantId, "ada", "hook-session");
    const response = await call("GET", "/api/agents/ada/sessions?owner=all", as(adam));
    const sessions = ((await response.json()) as { sessions: { key: string; owner: { type: string; id: string | null; email?: string | null } }[] }).sessions;
    expect(sessions.find((session) => session.key === sessionKey)?.owner).toEqual({ type: "user", id: max.userId, email: "max@example.com" });
    expect(sessions.find((session) => session.key === "hook-session")?.owner).toEqual({ type: "none", id: null });
    expect(sessions.find((session) => session.key === adasChat)?.owner).toMatchObject({ type: "user", id: ada.userId });
    expect((await auditActions("session.list_all"))[0]).toMatchObject({ target: "ada", actor: { id: adam.userId } });
    // An admin's own list is their own chats only.
    expect(await sessionKeys(adam)).toEqual([]);

    expect((await errorOf(await call("GET", "/api/agents/ada/sessions?owner=all", as(max)))).code).toBe("forbidden");
    expect((await errorOf(await call("GET", "/api/agents/ada/sessions?owner=everyone", as(adam)))).message).toMatch(/^owner:/);
  });

  it("keeps sessions nobody owns for admins: members get 404, admins may chat without claiming them", async () => {
    gateway.createSession(ada.tenantId, "ada", "hook-2");
    expect((await call("GET", "/api/agents/ada/sessions/hook-2", as(mia))).status).toBe(404);
    expect((await sendMessage(call, { ...as(mia), agent: "ada", sessionKey: "hook-2" })).status).toBe(404);
    expect((await sendMessage(call, { ...as(adam), agent: "ada", sessionKey: "hook-2" })).status).toBe(200);
    expect((await call("PATCH", "/api/agents/ada/sessions/hook-2", { ...as(adam), body: { title: "Triage" } })).status).toBe(200);
    const all = (await (await call("GET", "/api/agents/ada/sessions?owner=all", as(ada))).json()) as { sessions: { key: string; owner: { type: string } }[] };
    expect(all.sessions.find((session) => session.key === "hook-2")?.owner.type).toBe("none");
    expect(await sessionKeys(adam)).not.toContain("hook-2");
  });

  it("gives a new client-chosen key to exactly one of two concurrent first senders", async () => {
    const results = await Promise.all([
      sendMessage(call, { ...as(mia), agent: "ada", sessionKey: "race-1" }),
      sendMessage(call, { ...as(max), agent: "ada", sessionKey: "race-1" }),
    ]);
    expect(results.map((result) => result.status).sort()).toEqual([200, 404]);
    const winner = results[0].status === 200 ? mia : max;
    expect(await sessionKeys(winner)).toContain("race-1");
    const owners = await withSystem(platform.database.system, (trx) =>
      trx.selectFrom("session_owners").select("user_id").where("session_key", "=", "race-1").execute(),
    );
    expect(owners).toEqual([{ user_id: winner.userId }]);
  });

  it("lets an admin delete anyone's session (audited with its owner), and forgets its owner", async () => {
    const { sessionKey } = await sendMessage(call, { ...as(mia), agent: "ada" });
    expect((await call("DELETE", `/api/agents/ada/sessions/${sessionKey}`, as(adam))).status).toBe(204);
    expect((await auditActions("session.delete"))[0]).toMatchObject({ target: `ada/${sessionKey}`, details: { owner: { type: "user", id: mia.userId } } });
    const rows = await withSystem(platform.database.system, (trx) => trx.selectFrom("session_owners").select("user_id").where("session_key", "=", sessionKey!).execute());
    expect(rows).toEqual([]);
  });

  it("checks a run's session: a colleague cannot follow or abort it, an admin may follow it (audited) but not abort it", async () => {
    const run = await sendMessage(call, { ...as(mia), agent: "ada" });
    const events = `/api/runs/${run.runId}/events?after=0`;
    const abort = `/api/runs/${run.runId}/abort`;
    expect(await errorOf(await call("GET", events, as(max)))).toMatchObject({ status: 404, code: "run_not_found" });
    expect(await errorOf(await call("POST", abort, as(max)))).toMatchObject({ status: 404, code: "run_not_found" });
    const followed = await call("GET", events, as(adam));
    expect(followed.status).toBe(200);
    expect(await followed.text()).toContain("event: run-end");
    expect((await auditActions("session.read"))[0]).toMatchObject({ target: `ada/${run.sessionKey}`, details: { runId: run.runId } });
    expect(await errorOf(await call("POST", abort, as(adam)))).toMatchObject({ status: 403, code: "forbidden" });
    expect((await call("POST", abort, as(mia))).status).toBe(200);
  });

  it("does not hand a retried send with someone else's idempotency key their run", async () => {
    const first = await sendMessage(call, { ...as(mia), agent: "ada", idempotencyKey: "shared-1" });
    const retried = await sendMessage(call, { ...as(mia), agent: "ada", idempotencyKey: "shared-1" });
    expect(retried).toMatchObject({ status: 200, runId: first.runId, sessionKey: first.sessionKey });
    expect(await sessionKeys(mia)).toContain(first.sessionKey);
    const maxsRows = () => withSystem(platform.database.system, (trx) => trx.selectFrom("session_owners").select("session_key").where("user_id", "=", max.userId).execute());
    const before = await maxsRows();
    const stolen = await sendMessage(call, { ...as(max), agent: "ada", idempotencyKey: "shared-1" });
    expect(stolen.status).toBe(404);
    // The key chosen for the attempt is not left behind.
    expect(await maxsRows()).toEqual(before);
    expect(await sessionKeys(max)).not.toContain(first.sessionKey);
  });

  it("deletes an agent's session owners with the agent", async () => {
    await call("POST", "/api/agents", { ...as(ada), body: { name: "Temp", role: "Temporary" } });
    await sendMessage(call, { ...as(mia), agent: "temp" });
    expect((await call("DELETE", "/api/agents/temp", as(adam))).status).toBe(204);
    const rows = await withSystem(platform.database.system, (trx) => trx.selectFrom("session_owners").select("session_key").where("agent_slug", "=", "temp").execute());
    expect(rows).toEqual([]);
  });
});
