import { inspect } from "node:util";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { UsageJournalPage, type RunIntegrationsInput } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { PUBLIC_ONLY } from "@workforce/net-guard";
import { createOrganisationModelProviders, createProviders } from "../llm/create-providers";
import { createOrganisationProviders } from "../llm/organisation-providers";
import type { Logger } from "../logger";
import { readRunEvents, replyText, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

const OPERATOR_KEY = "sk-operator-key-0000";
const ORGANISATION_KEY = "sk-org-a-own-key-1234";
const REFUSED_KEY = "sk-org-a-revoked-9999";

let upstream: FakeUpstream;
let harness: TestGateway | undefined;
const logged: string[] = [];
const logger: Logger = {
  info: (message) => logged.push(message),
  warn: (message) => logged.push(message),
  error: (message, error) => logged.push(`${message} ${inspect(error, { depth: 8 })}`),
};

beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: [OPERATOR_KEY, ORGANISATION_KEY] });
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
  upstream.reset();
  logged.length = 0;
});

async function gateway(organisation = createOrganisationProviders({ fetchFor: () => undefined })): Promise<TestGateway> {
  const operator = createProviders({ anthropic: { apiKey: OPERATOR_KEY, baseURL: upstream.url }, openai: { baseURL: upstream.openaiBaseUrl, apiKey: OPERATOR_KEY } });
  // By default the fake (on loopback) is reached without the guard, as with a key the platform marks allowed on the private network.
  harness = await startTestGateway({ providers: { ...operator, organisation }, logger, config: { defaultModel: "claude-fake-1" } });
  return harness;
}

const anthropicKey = (apiKey: string, hint: string) => ({ apiKey, baseUrl: upstream.url, hint, allowPrivateNetwork: true });

async function send(h: TestGateway, tenant: string, integrations?: RunIntegrationsInput) {
  return h.request("POST", "/v1/agents/ada/runs", { tenant, body: { message: "Hello", sessionKey: "s", ...(integrations ? { integrations } : {}) }, headers: { accept: "text/event-stream" } });
}

async function journalWith(h: TestGateway, tenant: string, count: number): Promise<UsageJournalPage> {
  for (;;) {
    const page = UsageJournalPage.parse(await (await h.request("GET", "/v1/usage/journal?after=0", { tenant })).json());
    if (page.entries.length >= count) return page;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const sentKeys = () => upstream.requests.map((request) => request.headers["x-api-key"] ?? request.headers.authorization);

describe("an organisation's own model key (issue 14)", () => {
  it("is what its runs speak with, while another organisation without one uses the operator's; usage is marked whose", async () => {
    const h = await gateway();
    await h.createAgent(TENANT_A);
    await h.createAgent(TENANT_B);
    upstream.enqueue({ kind: "text", text: "On your key." }, { kind: "text", text: "On the operator's key." });

    const own = await readRunEvents(await send(h, TENANT_A, { modelKeys: { anthropic: anthropicKey(ORGANISATION_KEY, "…1234") } }));
    expect(replyText(own)).toBe("On your key.");
    expect(own[0]).toMatchObject({ type: "run-start", model: { provider: "anthropic", id: "claude-fake-1", offline: false } });
    const lent = await readRunEvents(await send(h, TENANT_B, {}));
    expect(replyText(lent)).toBe("On the operator's key.");
    expect(sentKeys()).toEqual([ORGANISATION_KEY, OPERATOR_KEY]);

    expect((await journalWith(h, TENANT_A, 1)).entries.map((entry) => entry.record.keySource)).toEqual(["organisation"]);
    expect((await journalWith(h, TENANT_B, 1)).entries.map((entry) => entry.record.keySource)).toEqual(["platform"]);
  });

  it("speaks to the organisation's OpenAI-compatible base URL with its key", async () => {
    const h = await gateway();
    await h.createAgent(TENANT_A, { model: "openai:gpt-fake-1" });
    upstream.enqueue({ kind: "text", text: "Compatible, and yours." });
    const events = await readRunEvents(
      await send(h, TENANT_A, { modelKeys: { "openai-compatible": { apiKey: ORGANISATION_KEY, baseUrl: upstream.openaiBaseUrl, hint: "…1234", allowPrivateNetwork: true } } }),
    );
    expect(replyText(events)).toBe("Compatible, and yours.");
    expect(upstream.requests.map((request) => [request.path, request.headers.authorization])).toEqual([["/v1/chat/completions", `Bearer ${ORGANISATION_KEY}`]]);
  });

  it("refuses at submit with model_key_required when the operator lends no key, before anything is written", async () => {
    const h = await gateway();
    await h.createAgent(TENANT_A);
    const refused = await send(h, TENANT_A, { platformKeyFallback: false });
    expect(refused.status).toBe(409);
    const body = (await refused.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("model_key_required");
    expect(body.error.message).toContain("Integrations");
    expect(body.error.message).toContain("Anthropic");
    expect(upstream.requests).toHaveLength(0);
    // No session was opened and no usage journaled.
    expect(((await (await h.request("GET", "/v1/agents/ada/sessions", { tenant: TENANT_A })).json()) as { sessions: unknown[] }).sessions).toEqual([]);
    expect(UsageJournalPage.parse(await (await h.request("GET", "/v1/usage/journal?after=0", { tenant: TENANT_A })).json()).entries).toEqual([]);

    // With its own key, the same organisation runs.
    upstream.enqueue({ kind: "text", text: "Now on your key." });
    expect(replyText(await readRunEvents(await send(h, TENANT_A, { platformKeyFallback: false, modelKeys: { anthropic: anthropicKey(ORGANISATION_KEY, "…1234") } })))).toBe("Now on your key.");
  });

  it("names the organisation's key, by its hint, when the provider refuses it; never the key itself, in answers or logs", async () => {
    const h = await gateway();
    await h.createAgent(TENANT_A);
    const events = await readRunEvents(await send(h, TENANT_A, { modelKeys: { anthropic: anthropicKey(REFUSED_KEY, "…9999") } }));
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "error", error: { code: "provider_auth_failed" } });
    const message = end?.type === "run-end" ? (end.error?.message ?? "") : "";
    expect(message).toContain("the organisation's Anthropic key …9999 was refused by the provider");
    expect(message).not.toContain("ANTHROPIC_API_KEY");
    // The fake answered with Anthropic's real 401 body once (a refused key is not retried).
    expect(sentKeys()).toEqual([REFUSED_KEY]);
    // The refusal is in the gateway log (with the provider's answer), for the operator to see.
    expect(logged.some((line) => line.includes("provider_auth_failed") && line.includes("…9999"))).toBe(true);
    const transcript = await (await h.request("GET", "/v1/agents/ada/sessions/s", { tenant: TENANT_A })).text();
    for (const text of [JSON.stringify(events), transcript, logged.join("\n")]) {
      expect(text).not.toContain(REFUSED_KEY);
      expect(text).not.toContain(OPERATOR_KEY);
    }
  });

  it("keeps today's message when the operator's key is refused", async () => {
    const h = await gateway();
    await h.createAgent(TENANT_A);
    upstream.enqueue({ kind: "status", status: 401 });
    const end = (await readRunEvents(await send(h, TENANT_A, {}))).at(-1);
    expect(end).toMatchObject({ type: "run-end", error: { code: "provider_auth_failed" } });
    if (end?.type === "run-end") expect(end.error?.message).toContain("ANTHROPIC_API_KEY");
  });

  it("is refused at connection by the SSRF guard when its base URL is a private address the operator did not allow, without a retry", async () => {
    const h = await gateway(createOrganisationModelProviders(PUBLIC_ONLY));
    await h.createAgent(TENANT_A);
    const events = await readRunEvents(await send(h, TENANT_A, { modelKeys: { anthropic: { ...anthropicKey(ORGANISATION_KEY, "…1234"), allowPrivateNetwork: false } } }));
    const end = events.at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "error", error: { code: "provider_unreachable" } });
    if (end?.type === "run-end") expect(end.error?.message).toMatch(/^the organisation's Anthropic base URL cannot be used: Outbound connection to 127\.0\.0\.1:\d+ refused/);
    expect(upstream.requests).toHaveLength(0);
  });
});
