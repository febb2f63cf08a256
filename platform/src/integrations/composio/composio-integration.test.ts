import { startFakeComposio, type FakeComposio } from "@workforce/fake-upstream";
import { ComposioConnectResult, ComposioOverview } from "@workforce/protocol";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { withSystem, withTenant } from "../../db/scopes";
import { startFakeGateway, type FakeGateway } from "../../test-support/fake-gateway";
import { caller, createTestPlatform, errorOf, joinAs, signUp, TEST_ORIGIN, type TestPlatform } from "../../test-support/test-platform";
import { createComposioIntegration } from "./composio-integration";
import { createRunIntegrations } from "../run-integrations";

const API_KEY = "composio-operator-key-0123456789";

let composio: FakeComposio;
let gateway: FakeGateway;
let platform: TestPlatform;
let bare: TestPlatform;
let call: ReturnType<typeof caller>;
let owner: { token: string; userId: string; tenantId: string };
let member: { token: string; userId: string; tenantId: string };
let other: { token: string; userId: string; tenantId: string };
const errors: string[] = [];

beforeAll(async () => {
  composio = await startFakeComposio({ apiKey: API_KEY });
  gateway = await startFakeGateway();
  platform = await createTestPlatform({
    gatewayUrl: gateway.url,
    parts: {
      integrations: { composio: { apiKey: API_KEY, baseUrl: composio.url } },
      logError: (message, error) => errors.push(`${message} ${error instanceof Error ? error.message : JSON.stringify(error)}`),
    },
  });
  bare = await createTestPlatform({ gatewayUrl: gateway.url, database: platform.database });
  call = caller(platform);
  owner = await signUp(platform, "olga@example.com");
  member = await joinAs(platform, owner, "max@example.com", "member");
  other = await signUp(platform, "otto@example.com");
  for (const who of [owner, other]) await call("POST", "/api/agents", { token: who.token, headers: { "x-tenant-id": who.tenantId }, body: { name: "Ada", role: "Analyst" } });
});
afterAll(async () => {
  await bare?.close();
  await platform?.close();
  await gateway?.close();
  await composio?.close();
});

const as = (who: { token: string; tenantId: string }, method: string, path: string, body?: unknown) =>
  call(method, path, { token: who.token, headers: { "x-tenant-id": who.tenantId }, ...(body === undefined ? {} : { body }) });

async function connect(who: { token: string; tenantId: string }, toolkit: string) {
  const response = await as(who, "POST", "/api/integrations/composio/connections", { toolkit });
  expect(response.status).toBe(201);
  return ComposioConnectResult.parse(await response.json());
}

/** Follows the hosted sign-in as a browser: Composio's page, then our callback. */
async function completeSignIn(redirectUrl: string) {
  const callback = new URL(await composio.completeLink(redirectUrl));
  expect(callback.origin).toBe(TEST_ORIGIN);
  expect(callback.pathname).toBe("/oauth/composio/callback");
  return platform.app.request(callback.toString());
}

async function overview(who: { token: string; tenantId: string }) {
  const response = await as(who, "GET", "/api/integrations/composio");
  expect(response.status).toBe(200);
  return ComposioOverview.parse(await response.json());
}

function runPart() {
  return createComposioIntegration({ db: platform.database.db, now: () => new Date(), logError: (message) => errors.push(message), publicUrl: TEST_ORIGIN, options: { apiKey: API_KEY, baseUrl: composio.url } }).part;
}
async function runShare(tenantId: string, agent = "ada") {
  const share = await createRunIntegrations(platform.database.db, [runPart()]).forRun(tenantId, agent);
  return share.composio;
}

describe("Composio without COMPOSIO_API_KEY", () => {
  it("is hidden: the overview says so and every other route answers composio_not_configured", async () => {
    const plain = caller(bare);
    const headers = { "x-tenant-id": owner.tenantId };
    const status = await plain("GET", "/api/integrations/composio", { token: owner.token, headers });
    expect(await status.json()).toEqual({ configured: false });
    for (const [method, path, body] of [
      ["GET", "/api/integrations/composio/toolkits"],
      ["POST", "/api/integrations/composio/connections", { toolkit: "github" }],
      ["GET", "/api/agents/ada/composio-tools"],
      ["PUT", "/api/agents/ada/composio-tools", { toolkits: [] }],
    ] as const) {
      const response = await plain(method, path, { token: owner.token, headers, ...(body ? { body } : {}) });
      expect(await errorOf(response)).toMatchObject({ status: 404, code: "composio_not_configured" });
    }
  });
});

describe("Composio connections", () => {
  it("lists Composio's toolkits and a toolkit's tools", async () => {
    const toolkits = await as(member, "GET", "/api/integrations/composio/toolkits");
    expect(((await toolkits.json()) as { toolkits: { slug: string; name: string }[] }).toolkits.map((toolkit) => toolkit.slug)).toEqual(["github", "gmail"]);
    const tools = await as(member, "GET", "/api/integrations/composio/toolkits/github/tools");
    expect(((await tools.json()) as { tools: { slug: string }[] }).tools.map((tool) => tool.slug)).toEqual(["GITHUB_CREATE_AN_ISSUE", "GITHUB_STAR_A_REPOSITORY"]);
  });

  it("connects through the hosted sign-in: redirect URL, callback, then active; keyed by the tenant id at Composio", async () => {
    const started = await connect(owner, "github");
    expect(started.connection).toMatchObject({ toolkit: "github", status: "pending" });
    expect(started.redirectUrl.startsWith(composio.url)).toBe(true);
    expect(composio.accounts.get(started.connection.connectedAccountId)).toMatchObject({ userId: owner.tenantId, toolkit: "github" });

    const back = await completeSignIn(started.redirectUrl);
    expect(back.status).toBe(302);
    expect(back.headers.get("location")).toBe("/integrations?composio=connected&toolkit=github");
    const listed = await overview(member);
    expect(listed).toMatchObject({ configured: true, connections: [{ toolkit: "github", status: "active", connectedAccountId: started.connection.connectedAccountId }] });
  });

  it("refuses a callback whose state was used, forged or belongs to nobody", async () => {
    const started = await connect(owner, "gmail");
    const callback = await composio.completeLink(started.redirectUrl);
    expect((await platform.app.request(callback)).headers.get("location")).toBe("/integrations?composio=connected&toolkit=gmail");
    // Single use: the same link again does nothing.
    expect((await platform.app.request(callback)).headers.get("location")).toBe("/integrations?composio=failed");
    const state = new URL(callback).searchParams.get("state") ?? "";
    const forged = `${TEST_ORIGIN}/oauth/composio/callback?state=${other.tenantId}.${state.split(".")[1]}`;
    expect((await platform.app.request(forged)).headers.get("location")).toBe("/integrations?composio=failed");
    expect((await platform.app.request(`${TEST_ORIGIN}/oauth/composio/callback`)).headers.get("location")).toBe("/integrations?composio=failed");
  });

  it("lets only owners and admins connect and disconnect", async () => {
    const refused = await as(member, "POST", "/api/integrations/composio/connections", { toolkit: "github" });
    expect(await errorOf(refused)).toMatchObject({ status: 403, code: "forbidden" });
    const connections = await overview(owner);
    if (!connections.configured) throw new Error("configured");
    const github = connections.connections.find((connection) => connection.toolkit === "github");
    expect(await errorOf(await as(member, "DELETE", `/api/integrations/composio/connections/${github?.id}`))).toMatchObject({ status: 403 });
    // Another organisation's connection id answers as if it did not exist.
    expect(await errorOf(await as(other, "DELETE", `/api/integrations/composio/connections/${github?.id}`))).toMatchObject({ status: 404, code: "not_found" });
    expect(composio.accounts.has(github?.connectedAccountId ?? "")).toBe(true);
  });

  it("refuses to connect a toolkit twice, and a toolkit Composio does not offer", async () => {
    expect(await errorOf(await as(owner, "POST", "/api/integrations/composio/connections", { toolkit: "github" }))).toMatchObject({ status: 409, code: "conflict" });
    expect(await errorOf(await as(owner, "POST", "/api/integrations/composio/connections", { toolkit: "nosuchapp" }))).toMatchObject({ status: 400, code: "composio_unknown_toolkit" });
  });
});

describe("per-agent toolkits and a run's share", () => {
  it("saves an agent's choice and gives its runs the organisation's own connected account", async () => {
    const saved = await as(owner, "PUT", "/api/agents/ada/composio-tools", {
      toolkits: [
        { toolkit: "github", mode: "allow", tools: ["GITHUB_CREATE_AN_ISSUE"] },
        { toolkit: "gmail", mode: "ask" },
      ],
    });
    expect(saved.status).toBe(200);
    expect(await (await as(member, "GET", "/api/agents/ada/composio-tools")).json()).toEqual({
      toolkits: [
        { toolkit: "github", mode: "allow", tools: ["GITHUB_CREATE_AN_ISSUE"] },
        { toolkit: "gmail", mode: "ask", tools: null },
      ],
    });
    const share = await runShare(owner.tenantId);
    const accounts = [...composio.accounts.values()].filter((account) => account.userId === owner.tenantId);
    expect(share).toMatchObject({ apiKey: API_KEY, baseUrl: composio.url, userId: owner.tenantId });
    expect(share?.tools).toEqual([
      { slug: "GITHUB_CREATE_AN_ISSUE", toolkit: "github", connectedAccountId: accounts.find((account) => account.toolkit === "github")?.id, mode: "allow" },
      { slug: "GMAIL_SEND_EMAIL", toolkit: "gmail", connectedAccountId: accounts.find((account) => account.toolkit === "gmail")?.id, mode: "ask" },
    ]);
  });

  it("refuses a member's change, a tool the toolkit lacks, and another organisation's agent", async () => {
    expect(await errorOf(await as(member, "PUT", "/api/agents/ada/composio-tools", { toolkits: [] }))).toMatchObject({ status: 403 });
    const wrong = await as(owner, "PUT", "/api/agents/ada/composio-tools", { toolkits: [{ toolkit: "github", mode: "allow", tools: ["GMAIL_SEND_EMAIL"] }] });
    expect(await errorOf(wrong)).toMatchObject({ status: 400, code: "composio_unknown_toolkit" });
    expect(await errorOf(await as(owner, "GET", "/api/agents/nobody/composio-tools"))).toMatchObject({ status: 404, code: "agent_not_found" });
  });

  it("never gives tenant B's run tenant A's connection: B without a connection of its own gets no tool", async () => {
    const granted = await as(other, "PUT", "/api/agents/ada/composio-tools", { toolkits: [{ toolkit: "github", mode: "allow" }] });
    expect(granted.status).toBe(200);
    expect(await runShare(other.tenantId)).toBeUndefined();
    // Once B connects its own account, B's runs use it, under B's user id.
    const started = await connect(other, "github");
    await completeSignIn(started.redirectUrl);
    const share = await runShare(other.tenantId);
    expect(share?.userId).toBe(other.tenantId);
    expect(new Set(share?.tools.map((tool) => tool.connectedAccountId))).toEqual(new Set([started.connection.connectedAccountId]));
    expect(composio.accounts.get(started.connection.connectedAccountId)?.userId).toBe(other.tenantId);
  });

  it("disconnects: the account is deleted at Composio and the run no longer gets the tool", async () => {
    const connections = await overview(other);
    if (!connections.configured) throw new Error("configured");
    const github = connections.connections.find((connection) => connection.toolkit === "github");
    expect((await as(other, "DELETE", `/api/integrations/composio/connections/${github?.id}`)).status).toBe(204);
    expect(composio.accounts.has(github?.connectedAccountId ?? "")).toBe(false);
    expect(await overview(other)).toEqual({ configured: true, connections: [] });
    expect(await runShare(other.tenantId)).toBeUndefined();
  });

  it("is in the organisation's export: connections by account id and status, and each agent's apps", async () => {
    const response = await as(owner, "GET", "/api/tenant/export");
    expect(response.status).toBe(200);
    const exported = (await response.json()) as { composio: { connections: { toolkit: string; status: string }[]; agentTools: { agent: string; toolkit: string; mode: string }[] } };
    expect(exported.composio.connections.map((connection) => [connection.toolkit, connection.status])).toEqual([
      ["github", "active"],
      ["gmail", "active"],
    ]);
    expect(exported.composio.agentTools).toEqual([
      { agent: "ada", toolkit: "github", mode: "allow", tools: ["GITHUB_CREATE_AN_ISSUE"] },
      { agent: "ada", toolkit: "gmail", mode: "ask", tools: null },
    ]);
  });

  it("erasing an organisation deletes its connected accounts at Composio", async () => {
    const erin = await signUp(platform, "erin@example.com");
    const started = await connect(erin, "github");
    await completeSignIn(started.redirectUrl);
    expect(composio.accounts.has(started.connection.connectedAccountId)).toBe(true);
    const me = (await (await call("GET", "/api/me", { token: erin.token })).json()) as { tenants: { id: string; name: string }[] };
    const name = me.tenants.find((tenant) => tenant.id === erin.tenantId)?.name;
    const erased = await as(erin, "DELETE", "/api/tenant", { confirm: name });
    expect(erased.status).toBe(200);
    expect(composio.accounts.has(started.connection.connectedAccountId)).toBe(false);
    expect([...composio.accounts.values()].some((account) => account.userId === owner.tenantId)).toBe(true);
  });

  it("never sends the API key anywhere but Composio's x-api-key header: not in answers, not in logs", async () => {
    const logged = vi.spyOn(console, "error");
    const answers = await Promise.all(
      ["/api/integrations/composio", "/api/integrations/composio/toolkits", "/api/agents/ada/composio-tools", "/api/tenant/export"].map(async (path) => (await as(owner, "GET", path)).text()),
    );
    for (const text of answers) expect(text).not.toContain(API_KEY);
    expect(answers.join("")).not.toContain("gho_fake_app_token_never_kept");
    expect(JSON.stringify(logged.mock.calls)).not.toContain(API_KEY);
    expect(errors.join("\n")).not.toContain(API_KEY);
    // Every API call carried the key (the hosted sign-in page is the browser's, without it).
    expect(composio.requests.filter((request) => request.path.startsWith("/api/")).every((request) => request.authorised)).toBe(true);
    logged.mockRestore();
  });

  it("keeps the rows under forced row-level security: an organisation neither sees nor writes another's", async () => {
    const forced = await withSystem(platform.database.system, async (trx) =>
      (await sql<{ relname: string; forced: boolean }>`select relname, relforcerowsecurity as forced from pg_class where relnamespace = current_schema()::regnamespace and relname in ('composio_connections', 'composio_agent_tools') order by relname`.execute(trx)).rows,
    );
    expect(forced).toEqual([
      { relname: "composio_agent_tools", forced: true },
      { relname: "composio_connections", forced: true },
    ]);
    const seen = await withTenant(platform.database.db, other.tenantId, (trx) => trx.selectFrom("composio_connections").select("tenant_id").execute());
    expect(seen.every((row) => row.tenant_id === other.tenantId)).toBe(true);
    const smuggled = withTenant(platform.database.db, other.tenantId, (trx) =>
      trx.insertInto("composio_connections").values({ tenant_id: owner.tenantId, toolkit: "slack", connected_account_id: "ca_smuggled", status: "active" }).execute(),
    );
    await expect(smuggled).rejects.toThrow();
    // A grant for an agent of another organisation cannot exist either (its agent is not B's).
    const foreignGrant = withTenant(platform.database.db, other.tenantId, (trx) =>
      trx.insertInto("composio_agent_tools").values({ tenant_id: other.tenantId, agent_slug: "nobody", toolkit: "github", tools: null, mode: "allow" }).execute(),
    );
    await expect(foreignGrant).rejects.toThrow();
  });
});
