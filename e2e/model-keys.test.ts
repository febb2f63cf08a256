/**
 * Bring your own model key (issue 14), end to end: the platform stores an organisation's key
 * (write-only), sends it with the organisation's runs, the real gateway speaks to the provider
 * with it through the real SDKs (the fake upstream checks which key it got), and the usage comes
 * back marked as the organisation's. The operator's key stays for everyone else, unless the
 * operator lends none.
 */
import { inspect } from "node:util";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { ModelKeyResponse, ModelKeysResponse, RunEvent, SseParser } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createOrganisationModelProviders, createProviders } from "../gateway/src/llm/create-providers";
import type { Logger } from "../gateway/src/logger";
import { startServer, type RunningServer } from "../gateway/src/server/start-server";
import { startTestGateway, type TestGateway } from "../gateway/src/test-support/test-gateway";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../platform/src/test-support/test-platform";
import { isTitleRequest } from "./title-request";

const HOOK_TOKEN = "model-keys-hook-token";
const OPERATOR_KEY = "sk-operator-secret-0000";
const ORGANISATION_KEY = "sk-acme-own-secret-1234";
const REFUSED_KEY = "sk-acme-revoked-secret-9999";
const SECRETS = [OPERATOR_KEY, ORGANISATION_KEY, REFUSED_KEY];

let upstream: FakeUpstream;
let gateway: TestGateway;
let server: RunningServer;
/** Lends the operator's key; lets base URLs reach the private network (the fake listens on loopback). */
let lending: TestPlatform;
/** Lends no key; base URLs must be public. */
let strict: TestPlatform;
const output: string[] = [];
const capture: Logger = {
  info: (message) => output.push(message),
  warn: (message) => output.push(message),
  error: (message, error) => output.push(`${message} ${inspect(error, { depth: 8 })}`),
};

beforeAll(async () => {
  // Everything the platforms print too, to check that no key value is ever in it.
  for (const method of ["log", "info", "warn", "error"] as const) {
    const original = console[method].bind(console);
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      output.push(args.map((arg) => (typeof arg === "string" ? arg : inspect(arg, { depth: 8 }))).join(" "));
      original(...args);
    });
  }
  upstream = await startFakeUpstream({ apiKey: [OPERATOR_KEY, ORGANISATION_KEY] });
  const port = new URL(upstream.url).port;
  gateway = await startTestGateway({
    hookToken: HOOK_TOKEN,
    logger: capture,
    config: { defaultModel: "claude-fake-1" },
    providers: {
      ...createProviders({ anthropic: { apiKey: OPERATOR_KEY, baseURL: upstream.url }, openai: { baseURL: upstream.openaiBaseUrl, apiKey: OPERATOR_KEY } }),
      // The gateway's own outbound policy lets the guarded fetch reach the fake (and nothing else private).
      organisation: createOrganisationModelProviders({ allowPrivateNetwork: false, allowHosts: [`127.0.0.1:${port}`] }),
    },
  });
  server = await startServer(gateway.gateway.app, 0, "127.0.0.1", (request, socket, head) => gateway.gateway.websocket.handleUpgrade(request, socket, head));
  const common = { gatewayUrl: server.url, hookToken: HOOK_TOKEN };
  lending = await createTestPlatform({ ...common, parts: { tenantDataDir: gateway.dataDir, integrations: { modelKeys: { platformKeyFallback: true }, outbound: { allowPrivateNetwork: false, allowHosts: [`127.0.0.1:${port}`] } } } });
  strict = await createTestPlatform({ ...common, parts: { tenantDataDir: gateway.dataDir, integrations: { modelKeys: { platformKeyFallback: false } } } });
}, 120_000);
afterAll(async () => {
  await lending?.close();
  await strict?.close();
  await server?.close();
  await gateway?.cleanup();
  await upstream?.close();
  vi.restoreAllMocks();
});

interface Organisation {
  token: string;
  tenantId: string;
  call: (method: string, path: string, body?: unknown, token?: string) => Promise<Response>;
}

async function organisation(platform: TestPlatform, email: string): Promise<Organisation> {
  const owner = await signUp(platform, email);
  const call = caller(platform);
  const organisation: Organisation = {
    ...owner,
    call: async (method, path, body, token = owner.token) => call(method, path, { token, headers: { "x-tenant-id": owner.tenantId }, ...(body === undefined ? {} : { body }) }),
  };
  expect((await organisation.call("POST", "/api/agents", { name: "Ada", role: "Research Analyst" })).status).toBe(201);
  return organisation;
}

async function chat(org: Organisation, message = "Hello"): Promise<{ status: number; events: RunEvent[]; body: string }> {
  const response = await org.call("POST", "/api/agents/ada/messages", { message });
  const body = await response.text();
  if (response.status !== 200) return { status: response.status, events: [], body };
  return { status: 200, events: new SseParser().push(body).map((event) => RunEvent.parse(JSON.parse(event.data))), body };
}

const reply = (events: RunEvent[]) => events.flatMap((event) => (event.type === "text-delta" ? [event.delta] : [])).join("");
const sentKeys = () => upstream.requests.map((request) => request.headers["x-api-key"] ?? request.headers.authorization);

describe("an organisation's own model key, platform to provider", () => {
  let acme: Organisation;
  let globex: Organisation;
  let answers = "";

  beforeAll(async () => {
    acme = await organisation(lending, "olivia@acme.example");
    globex = await organisation(lending, "gary@globex.example");
  });

  it("is stored write-only: its owner sets it, members see that it is set and its hint, never the key", async () => {
    const put = await acme.call("PUT", "/api/integrations/model-keys/anthropic", { apiKey: ORGANISATION_KEY, baseUrl: upstream.url });
    const putBody = await put.text();
    answers += putBody;
    expect(put.status).toBe(200);
    expect(ModelKeyResponse.parse(JSON.parse(putBody)).key).toMatchObject({ provider: "anthropic", set: true, hint: "…1234", baseUrl: upstream.url, updatedBy: { email: "olivia@acme.example" } });

    const listed = await acme.call("GET", "/api/integrations/model-keys");
    const listedBody = await listed.text();
    answers += listedBody;
    const list = ModelKeysResponse.parse(JSON.parse(listedBody));
    expect(list.policy).toMatchObject({ platformKeyFallback: true, available: true });
    expect(list.keys).toEqual([
      expect.objectContaining({ provider: "anthropic", set: true, hint: "…1234" }),
      expect.objectContaining({ provider: "openai-compatible", set: false, hint: null }),
    ]);
    // Another organisation sees none of it.
    const other = ModelKeysResponse.parse(await (await globex.call("GET", "/api/integrations/model-keys")).json());
    expect(other.keys.every((key) => !key.set)).toBe(true);
    // The audit log says who set which provider's key, with its hint, not the key.
    const audit = await (await acme.call("GET", "/api/audit")).text();
    answers += audit;
    expect(audit).toContain("model_key.set");
    expect(audit).toContain("…1234");
    // The organisation's export names the key and its base URL, never the key.
    const exported = await (await acme.call("GET", "/api/tenant/export")).text();
    answers += exported;
    expect(JSON.parse(exported)).toMatchObject({ secrets: [{ name: "model-key/anthropic", kind: "model-key" }], modelKeys: [{ provider: "anthropic", baseUrl: upstream.url }] });
  });

  it("refuses what is not a key: an unknown provider, no key, a base URL carrying credentials", async () => {
    const unknown = await acme.call("PUT", "/api/integrations/model-keys/mistral", { apiKey: ORGANISATION_KEY });
    expect(unknown.status).toBe(404);
    for (const body of [{}, { apiKey: "  " }, { apiKey: ORGANISATION_KEY, baseUrl: "https://user:pass@models.example.com/v1" }, { apiKey: ORGANISATION_KEY, baseUrl: "ftp://models.example.com" }]) {
      const refused = await acme.call("PUT", "/api/integrations/model-keys/anthropic", body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("validation_failed");
    }
    // The key set before is still the one in force.
    expect(ModelKeysResponse.parse(await (await acme.call("GET", "/api/integrations/model-keys")).json()).keys[0]).toMatchObject({ hint: "…1234" });
  });

  it("is what the organisation's runs send the provider, while another organisation's runs send the operator's; usage says whose", async () => {
    upstream.reset();
    upstream.enqueue({ kind: "text", text: "Answered on Acme's key." }, { kind: "text", text: "Answered on the installation's key." });
    const own = await chat(acme);
    answers += own.body;
    expect(reply(own.events)).toBe("Answered on Acme's key.");
    const lent = await chat(globex);
    answers += lent.body;
    expect(reply(lent.events)).toBe("Answered on the installation's key.");
    expect(sentKeys()).toEqual([ORGANISATION_KEY, OPERATOR_KEY]);

    const usage = (await (await acme.call("GET", "/api/usage?days=1")).json()) as { totals: { runs: number; organisationKey: { runs: number; inputTokens: number } }; byAgent: { agent: string; organisationKey: { runs: number } }[] };
    expect(usage.totals).toMatchObject({ runs: 1, organisationKey: { runs: 1 } });
    expect(usage.totals.organisationKey.inputTokens).toBeGreaterThan(0);
    expect(usage.byAgent).toEqual([expect.objectContaining({ agent: "ada", organisationKey: expect.objectContaining({ runs: 1 }) })]);
    const theirs = (await (await globex.call("GET", "/api/usage?days=1")).json()) as { totals: { runs: number; organisationKey: { runs: number } } };
    expect(theirs.totals).toMatchObject({ runs: 1, organisationKey: { runs: 0 } });
  });

  it("fails provider_auth_failed naming the organisation's key by its hint when the provider refuses it", async () => {
    expect((await acme.call("PUT", "/api/integrations/model-keys/anthropic", { apiKey: REFUSED_KEY, baseUrl: upstream.url })).status).toBe(200);
    upstream.reset();
    const refused = await chat(acme);
    answers += refused.body;
    const end = refused.events.at(-1);
    expect(end).toMatchObject({ type: "run-end", status: "error", error: { code: "provider_auth_failed" } });
    const message = end?.type === "run-end" ? (end.error?.message ?? "") : "";
    expect(message).toContain("the organisation's Anthropic key …9999 was refused by the provider");
    expect(message).not.toContain("ANTHROPIC_API_KEY");
    // The fake refused it with Anthropic's real 401 body.
    expect(sentKeys()).toEqual([REFUSED_KEY]);
  });

  it("after removal, the organisation's runs use the operator's key again", async () => {
    expect((await acme.call("DELETE", "/api/integrations/model-keys/anthropic")).status).toBe(204);
    expect((await acme.call("DELETE", "/api/integrations/model-keys/anthropic")).status).toBe(404);
    upstream.reset();
    upstream.enqueue({ kind: "text", text: "Back on the installation's key." });
    expect(reply((await chat(acme)).events)).toBe("Back on the installation's key.");
    expect(sentKeys()).toEqual([OPERATOR_KEY]);
  });

  it("speaks to an OpenAI-compatible base URL, which is required, with the organisation's key", async () => {
    const missing = await acme.call("PUT", "/api/integrations/model-keys/openai-compatible", { apiKey: ORGANISATION_KEY });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: "validation_failed", message: expect.stringContaining("baseUrl") });
    expect((await acme.call("PUT", "/api/integrations/model-keys/openai-compatible", { apiKey: ORGANISATION_KEY, baseUrl: upstream.openaiBaseUrl })).status).toBe(200);
    expect((await acme.call("PATCH", "/api/agents/ada", { model: "openai:gpt-fake-1" })).status).toBe(200);
    upstream.reset();
    upstream.enqueue({ kind: "text", text: "Compatible, on Acme's key." });
    expect(reply((await chat(acme)).events)).toBe("Compatible, on Acme's key.");
    // The chat's request (a title request the index job may send afterwards goes the same way).
    const chatRequests = upstream.requests.filter((request) => !isTitleRequest(request));
    expect(chatRequests.map((request) => [request.path, request.headers.authorization])).toEqual([["/v1/chat/completions", `Bearer ${ORGANISATION_KEY}`]]);
  });

  it("never shows a key value in an answer or a log line", () => {
    expect(output.length).toBeGreaterThan(0);
    for (const secret of SECRETS) {
      expect(answers).not.toContain(secret);
      expect(output.join("\n")).not.toContain(secret);
    }
  });
});

describe("an operator who lends no key", () => {
  let initech: Organisation;
  beforeAll(async () => {
    initech = await organisation(strict, "irene@initech.example");
  });

  it("refuses an organisation's run without its own key with model_key_required, pointing to Integrations", async () => {
    upstream.reset();
    const refused = await chat(initech);
    expect(refused.status).toBe(409);
    const error = (JSON.parse(refused.body) as { error: { code: string; message: string } }).error;
    expect(error.code).toBe("model_key_required");
    expect(error.message).toContain("Integrations");
    expect(upstream.requests).toHaveLength(0);
    expect(ModelKeysResponse.parse(await (await initech.call("GET", "/api/integrations/model-keys")).json()).policy).toMatchObject({ platformKeyFallback: false });
  });

  it("refuses a base URL on a private address, which its outbound policy does not allow", async () => {
    for (const baseUrl of [upstream.openaiBaseUrl, "http://10.0.0.5:11434/v1", "http://[::1]:11434/v1"]) {
      const refused = await initech.call("PUT", "/api/integrations/model-keys/openai-compatible", { apiKey: ORGANISATION_KEY, baseUrl });
      expect(refused.status, baseUrl).toBe(422);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("outbound_blocked");
    }
    const list = ModelKeysResponse.parse(await (await initech.call("GET", "/api/integrations/model-keys")).json());
    expect(list.keys.every((key) => !key.set)).toBe(true);
  });
});
