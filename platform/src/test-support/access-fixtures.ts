import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeComposio, type FakeComposio } from "@workforce/fake-upstream";
import { dataDirMarkerPath } from "@workforce/protocol/tenant-path";
import type { Role } from "../db/schema";
import { startFakeGateway, type FakeGateway } from "./fake-gateway";
import { LOOPBACK_OUTBOUND, startMcpTestServer } from "./mcp-test-server";
import { sdkMcpToolLister } from "./sdk-mcp-tool-lister";
import { sendMessage } from "./send-message";
import { caller, confirmEmail, createTestPlatform, invitationTokenFor, joinAs, latestMail, signUp, TEST_ORIGIN, type TestPlatform } from "./test-platform";

const PASSWORD = "correct horse battery";

export type CallerKind = "owner" | "admin" | "member" | "member2" | "key-with-scope" | "key-without-scope" | "outsider" | "anonymous";
export const CALLER_KINDS: CallerKind[] = ["owner", "admin", "member", "member2", "key-with-scope", "key-without-scope", "outsider", "anonymous"];

export interface Person {
  token: string;
  userId: string;
  tenantId: string;
  email: string;
}
export interface Key {
  secret: string;
  id: string;
}
/** Who makes a request: credentials, the headers it sends, and what it is in organisation A. */
export interface Caller {
  kind: CallerKind;
  token: string | undefined;
  headers: Record<string, string>;
  /** Its role in organisation A (null: a key, someone from elsewhere, nobody). */
  role: Role | null;
  person: Person | undefined;
  key: Key | undefined;
}

/**
 * Shared fixtures of the access matrix: organisation A (owner, admin, two members, API keys,
 * agent "ada"), organisation B (the outsider's, with its own agent, session, run, invitation
 * and key), and organisation C whose invitations callers accept. Objects are made on demand;
 * destructive cases ask for fresh ones.
 */
export async function createAccessFixtures() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "workforce-matrix-"));
  await writeFile(dataDirMarkerPath(dataDir), JSON.stringify({ instanceId: "matrix" }));
  const gateway: FakeGateway = await startFakeGateway({ dataDir: { path: dataDir, instanceId: "matrix" } });
  const composio: FakeComposio = await startFakeComposio({ apiKey: "matrix-composio-key" });
  // An OAuth-protected MCP server, so that starting its authorisation succeeds for those allowed to.
  const mcpServer = await startMcpTestServer({ oauth: {} });
  const platform: TestPlatform = await createTestPlatform({
    gatewayUrl: gateway.url,
    parts: {
      tenantDataDir: dataDir,
      integrations: { composio: { apiKey: "matrix-composio-key", baseUrl: composio.url }, outbound: LOOPBACK_OUTBOUND },
      mcpTools: sdkMcpToolLister(),
    },
  });
  const call = caller(platform);
  let counter = 0;
  const unique = (prefix: string) => `${prefix}-${++counter}`;

  const person = async (email: string, join?: { inviter: Person; role: Role }): Promise<Person> => {
    const joined = join ? await joinAs(platform, join.inviter, email, join.role) : await signUp(platform, email, PASSWORD);
    // Everyone confirms their address, so accepting an invitation is a question of roles alone.
    if (!join) await confirmEmail(platform, email);
    return { ...joined, email };
  };
  const asPerson = (who: Person) => ({ token: who.token, headers: { "x-tenant-id": who.tenantId } });
  const ok = async (response: Response | Promise<Response>, what: string) => {
    const resolved = await response;
    if (!resolved.ok) throw new Error(`fixture ${what} failed: ${resolved.status} ${await resolved.text()}`);
    return resolved;
  };
  const createKey = async (owner: Person, scopes?: string[]): Promise<Key> => {
    const response = await ok(call("POST", "/api/keys", { ...asPerson(owner), body: { name: unique("key"), ...(scopes ? { scopes } : {}) } }), "key");
    const body = (await response.json()) as { key: { id: string }; secret: string };
    return { id: body.key.id, secret: body.secret };
  };
  const invite = async (inviter: Person, email: string, role: Role = "member") => {
    const response = await ok(call("POST", "/api/invitations", { ...asPerson(inviter), body: { email, role } }), "invitation");
    const body = (await response.json()) as { invitation: { id: string } };
    return { id: body.invitation.id, token: await invitationTokenFor(platform, email) };
  };

  const owner = await person("owner@a.example");
  const admin = await person("admin@a.example", { inviter: owner, role: "admin" });
  const member = await person("member@a.example", { inviter: owner, role: "member" });
  const member2 = await person("member2@a.example", { inviter: owner, role: "member" });
  const outsider = await person("outsider@b.example");
  const host = await person("host@c.example");
  await ok(call("POST", "/api/agents", { ...asPerson(owner), body: { name: "Ada", role: "Analyst" } }), "agent ada");
  await ok(call("POST", "/api/agents", { ...asPerson(outsider), body: { name: "Bob", role: "Builder" } }), "agent bob");
  const fullKey = await createKey(owner);
  const SCOPES = ["agents:read", "agents:write", "sessions:read", "sessions:write", "chat", "usage:read"];
  const keysWithout = new Map<string, Key>();
  for (const scope of SCOPES) keysWithout.set(scope, await createKey(owner, SCOPES.filter((other) => other !== scope)));
  const foreignRun = await sendMessage(call, { ...asPerson(outsider), agent: "bob" });
  /** A Composio connection under way in `who`'s organisation (a new one replaces the last that never completed). */
  const composioConnection = async (who: Person) => {
    const response = await ok(call("POST", "/api/integrations/composio/connections", { ...asPerson(who), body: { toolkit: "gmail" } }), "composio connection");
    return ((await response.json()) as { connection: { id: string } }).connection.id;
  };
  const createMcpServer = async (who: Person) => {
    const response = await ok(call("POST", "/api/integrations/mcp/servers", { ...asPerson(who), body: { name: "Tools", namespace: unique("tools").replace("-", "_"), url: mcpServer.url, auth: "oauth" } }), "MCP server");
    return ((await response.json()) as { server: { id: string } }).server.id;
  };
  const sharedMcpServer = await createMcpServer(owner);
  const createSchedule = async (who: Person, agent: string) => {
    const body = { name: unique("schedule"), kind: "every", everyMinutes: 60, message: "Check in", sessionMode: "new" };
    const response = await ok(call("POST", `/api/agents/${agent}/schedules`, { ...asPerson(who), body }), "schedule");
    return ((await response.json()) as { schedule: { id: string } }).schedule.id;
  };
  const sharedSchedule = await createSchedule(owner, "ada");
  /** A tool call paused in the session, waiting for a decision: the gateway journals it, the platform reads it. */
  const pausedApproval = async (sessionKey: string, where = { tenantId: owner.tenantId, agent: "ada" }): Promise<string> => {
    const { approvalId } = gateway.pauseRun(where.tenantId, where.agent, sessionKey, { tool: "write_file", input: { path: "matrix.md" } });
    await platform.ingest.sync(where.tenantId);
    return approvalId;
  };
  // Webhook endpoints at a receiver that is never reached (no job runs here), and a delivery each.
  const createWebhook = async (who: Person) => {
    const response = await ok(call("POST", "/api/webhooks", { ...asPerson(who), body: { url: `http://127.0.0.1:9/${unique("hook")}` } }), "webhook endpoint");
    return ((await response.json()) as { endpoint: { id: string } }).endpoint.id;
  };
  const webhookDelivery = async (who: Person, endpointId: string) => {
    const response = await ok(call("POST", `/api/webhooks/${endpointId}/test`, asPerson(who)), "webhook delivery");
    return ((await response.json()) as { delivery: { id: string } }).delivery.id;
  };
  const sharedWebhook = await createWebhook(owner);
  const sharedWebhookDelivery = await webhookDelivery(owner, sharedWebhook);
  const foreignWebhook = await createWebhook(outsider);
  const foreign = {
    approvalId: await pausedApproval(foreignRun.sessionKey!, { tenantId: outsider.tenantId, agent: "bob" }),
    agent: "bob",
    sessionKey: foreignRun.sessionKey!,
    runId: foreignRun.runId!,
    invitationId: (await invite(outsider, "someone@b.example")).id,
    keyId: (await createKey(outsider)).id,
    userId: outsider.userId,
    composioConnectionId: await composioConnection(outsider),
    mcpServerId: await createMcpServer(outsider),
    scheduleId: await createSchedule(outsider, "bob"),
    webhookId: foreignWebhook,
    webhookDeliveryId: await webhookDelivery(outsider, foreignWebhook),
  };

  const people = { owner, admin, member, member2, outsider };
  const callerOf = (kind: CallerKind, scope: string | null): Caller => {
    const inA = (who: Person, role: Role): Caller => ({ kind, token: who.token, headers: { "x-tenant-id": owner.tenantId }, role, person: who, key: undefined });
    switch (kind) {
      case "owner":
        return inA(owner, "owner");
      case "admin":
        return inA(admin, "admin");
      case "member":
        return inA(member, "member");
      case "member2":
        return inA(member2, "member");
      case "key-with-scope":
        return { kind, token: fullKey.secret, headers: {}, role: null, person: undefined, key: fullKey };
      case "key-without-scope": {
        const key = keysWithout.get(scope ?? "chat")!;
        return { kind, token: key.secret, headers: {}, role: null, person: undefined, key };
      }
      case "outsider":
        // Someone from another organisation, naming organisation A.
        return { kind, token: outsider.token, headers: { "x-tenant-id": owner.tenantId }, role: null, person: outsider, key: undefined };
      case "anonymous":
        return { kind, token: undefined, headers: {}, role: null, person: undefined, key: undefined };
    }
  };

  /** The credentials a principal of organisation A chats with. */
  const credentialsOf = (who: Person | Key) => ("secret" in who ? { token: who.secret } : asPerson(who));
  const sessionCache = new Map<string, { sessionKey: string; runId: string }>();
  const chatAs = async (who: Person | Key, options: { sessionKey?: string; fresh?: boolean } = {}) => {
    const id = "secret" in who ? who.id : who.userId;
    const cacheKey = `${id}/${options.sessionKey ?? ""}`;
    const cached = options.fresh ? undefined : sessionCache.get(cacheKey);
    if (cached) return cached;
    const sent = await sendMessage(call, { ...credentialsOf(who), agent: "ada", ...(options.sessionKey ? { sessionKey: options.sessionKey } : {}) });
    if (sent.status !== 200 || !sent.sessionKey || !sent.runId) throw new Error(`fixture chat failed: ${sent.status} ${sent.text}`);
    const made = { sessionKey: sent.sessionKey, runId: sent.runId };
    if (!options.fresh) sessionCache.set(cacheKey, made);
    return made;
  };
  const sharedHookSession = unique("hook");
  gateway.createSession(owner.tenantId, "ada", sharedHookSession);

  return {
    platform,
    gateway,
    call,
    people,
    foreign,
    callerOf,
    unique,
    password: PASSWORD,
    /** A session (and a run in it) the principal started; a fresh one when asked. */
    chatAs,
    pausedApproval,
    /** A session started by the gateway's hooks: nobody's. */
    unownedSession(fresh = false): string {
      if (!fresh) return sharedHookSession;
      const key = unique("hook");
      gateway.createSession(owner.tenantId, "ada", key);
      return key;
    },
    /** A run in a session nobody owns (an owner may chat there without claiming it). */
    async unownedRun(): Promise<string> {
      return (await chatAs(owner, { sessionKey: sharedHookSession })).runId;
    },
    async freshAgent(): Promise<string> {
      const name = unique("temp");
      await ok(call("POST", "/api/agents", { ...asPerson(owner), body: { name, role: "Temporary" } }), "agent");
      return name;
    },
    freshInvitation: async () => (await invite(owner, `${unique("invitee")}@a.example`)).id,
    /** The link token of a fresh account's confirmation mail. */
    async confirmationToken(): Promise<string> {
      const email = `${unique("unconfirmed")}@n.example`;
      await signUp(platform, email, PASSWORD);
      const mail = await latestMail(platform, email, /^Confirm your email address/);
      return new URL(mail.link!).searchParams.get("token_hash")!;
    },
    /** An invitation to organisation C for this email. */
    invitationFor: async (email: string) => (await invite(host, email)).token,
    freshKey: async () => (await createKey(owner)).id,
    freshComposioConnection: () => composioConnection(owner),
    /** Organisation A's MCP server (OAuth, not connected); a fresh one to delete. */
    mcpServer: (fresh = false) => (fresh ? createMcpServer(owner) : Promise.resolve(sharedMcpServer)),
    /** A schedule of agent "ada" in organisation A (a new one when `fresh`). */
    schedule: (fresh = false) => (fresh ? createSchedule(owner, "ada") : Promise.resolve(sharedSchedule)),
    /** Organisation A's webhook endpoint and a delivery of it; a fresh endpoint to delete. */
    webhook: (fresh = false) => (fresh ? createWebhook(owner) : Promise.resolve(sharedWebhook)),
    webhookDelivery: sharedWebhookDelivery,
    freshMember: async (role: Role = "member") => person(`${unique("extra")}@a.example`, { inviter: owner, role }),
    /** A new organisation of the owner's, to delete. */
    async freshOrganisation(): Promise<{ id: string; name: string }> {
      const name = unique("Doomed");
      const response = await ok(call("POST", "/api/tenants", { token: owner.token, body: { name } }), "organisation");
      return { id: ((await response.json()) as { tenant: { id: string } }).tenant.id, name };
    },
    async freshSignIn(email: string): Promise<{ access: string; refresh: string }> {
      const response = await ok(
        platform.app.request(`${TEST_ORIGIN}/auth/v1/token?grant_type=password`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email, password: PASSWORD }),
        }),
        "sign-in",
      );
      const session = (await response.json()) as { access_token: string; refresh_token: string };
      return { access: session.access_token, refresh: session.refresh_token };
    },
    async close() {
      await platform.close();
      await gateway.close();
      await composio.close();
      await mcpServer.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export type AccessFixtures = Awaited<ReturnType<typeof createAccessFixtures>>;
