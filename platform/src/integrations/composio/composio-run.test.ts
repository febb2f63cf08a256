/**
 * The whole way of a Composio tool call: two organisations connect GitHub through the (fake)
 * hosted sign-in and grant it to their agent; a message to the platform runs on the real gateway
 * process, whose (fake) model calls the tool, and Composio runs it as that organisation with its
 * own connected account, never the other's.
 */
import { startFakeComposio, startFakeUpstream, type FakeComposio, type FakeUpstream } from "@workforce/fake-upstream";
import { ComposioConnectResult } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGatewayProcess, type GatewayProcess } from "../../test-support/gateway-process";
import { sendMessage } from "../../test-support/send-message";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../../test-support/test-platform";

const KEY = "composio-run-operator-key-0000000";
const HOOK_TOKEN = "composio-run-hook-token";
let upstream: FakeUpstream;
let composio: FakeComposio;
let gateway: GatewayProcess;
let platform: TestPlatform;
let call: ReturnType<typeof caller>;
const people: Record<"a" | "b", { token: string; tenantId: string; account: string }> = { a: { token: "", tenantId: "", account: "" }, b: { token: "", tenantId: "", account: "" } };

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "model-key" });
  composio = await startFakeComposio({ apiKey: KEY });
  gateway = await startGatewayProcess({
    hookToken: HOOK_TOKEN,
    env: { ANTHROPIC_API_KEY: "model-key", ANTHROPIC_BASE_URL: upstream.url, WORKFORCE_DEFAULT_MODEL: "claude-fake-1", WORKFORCE_OUTBOUND_ALLOW_HOSTS: new URL(composio.url).host },
  });
  platform = await createTestPlatform({ gatewayUrl: gateway.url, hookToken: HOOK_TOKEN, parts: { integrations: { composio: { apiKey: KEY, baseUrl: composio.url } } } });
  call = caller(platform);
  for (const [name, email] of [["a", "ada-owner@a.example"], ["b", "bea-owner@b.example"]] as const) {
    const person = await signUp(platform, email);
    const as = { token: person.token, headers: { "x-tenant-id": person.tenantId } };
    expect((await call("POST", "/api/agents", { ...as, body: { name: "Ada", role: "Analyst" } })).status).toBe(201);
    const started = ComposioConnectResult.parse(await (await call("POST", "/api/integrations/composio/connections", { ...as, body: { toolkit: "github" } })).json());
    await platform.app.request(await composio.completeLink(started.redirectUrl));
    expect((await call("PUT", "/api/agents/ada/composio-tools", { ...as, body: { toolkits: [{ toolkit: "github", mode: "allow", tools: ["GITHUB_CREATE_AN_ISSUE"] }] } })).status).toBe(200);
    people[name] = { token: person.token, tenantId: person.tenantId, account: started.connection.connectedAccountId };
  }
}, 120_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.stop();
  await composio?.close();
  await upstream?.close();
});

describe("a Composio tool call from a message to the platform", () => {
  it("runs each organisation's call with its own connected account, under its own user id", async () => {
    for (const name of ["a", "b"] as const) {
      const who = people[name];
      upstream.enqueue({ kind: "tool_use", name: "GITHUB_CREATE_AN_ISSUE", input: { title: `Bug of ${name}` } }, { kind: "text", text: "Filed." });
      const sent = await sendMessage(call, { token: who.token, headers: { "x-tenant-id": who.tenantId }, agent: "ada", message: "File the bug" });
      expect(sent.status).toBe(200);
      expect(sent.text).toContain('"type":"tool-call-end"');
      expect(sent.text).toContain(`Bug of ${name}`);
      expect(sent.text).not.toContain(KEY);
    }
    expect(composio.executions.map((execution) => [execution.userId, execution.connectedAccountId, execution.arguments])).toEqual([
      [people.a.tenantId, people.a.account, { title: "Bug of a" }],
      [people.b.tenantId, people.b.account, { title: "Bug of b" }],
    ]);
    expect(composio.refusedExecutions).toEqual([]);
    expect(gateway.output()).not.toContain(KEY);
  }, 60_000);
});
