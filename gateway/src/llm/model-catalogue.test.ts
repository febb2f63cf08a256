import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { ModelCatalogue } from "@workforce/protocol";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../test-support/test-gateway";
import { createProviders } from "./create-providers";
import { createModelCatalogue } from "./model-catalogue";

let upstream: FakeUpstream;
let harness: TestGateway | undefined;
beforeAll(async () => {
  upstream = await startFakeUpstream({ apiKey: "test-key", models: ["claude-fake-1", "claude-fake-2"] });
});
afterAll(async () => {
  await upstream.close();
});
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
  upstream.reset();
});

async function listed(h: TestGateway): Promise<ModelCatalogue> {
  // Deployment-wide: no X-Tenant-ID, like /v1/capabilities.
  const response = await h.request("GET", "/v1/models", { tenant: null });
  expect(response.status).toBe(200);
  return ModelCatalogue.parse(await response.json());
}

const modelListings = () => upstream.requests.filter((request) => request.method === "GET" && request.path === "/v1/models");

describe("GET /v1/models", () => {
  it("lists the upstream's models through the real SDKs, both protocols, plus the offline model", async () => {
    const providers = createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: { baseURL: upstream.openaiBaseUrl, apiKey: "test-key" } });
    harness = await startTestGateway({ providers, config: { defaultModel: "claude-fake-1" } });
    const catalogue = await listed(harness);
    expect(catalogue.default).toBe("claude-fake-1");
    expect(catalogue.offline).toBe(false);
    expect(catalogue.unverified).toEqual([]);
    expect(catalogue.models.map((model) => [model.id, model.provider])).toEqual([
      ["offline", "offline"],
      ["claude-fake-1", "anthropic"],
      ["claude-fake-2", "anthropic"],
      ["openai:claude-fake-1", "openai-compatible"],
      ["openai:claude-fake-2", "openai-compatible"],
    ]);
    // Each protocol asked with its own key header.
    expect(modelListings().map((request) => request.protocol).sort()).toEqual(["anthropic", "openai"]);
  });

  it("asks the upstream once and answers from its cache until the list is stale", async () => {
    let clock = 1_000_000;
    const providers = createProviders({ anthropic: { apiKey: "test-key", baseURL: upstream.url }, openai: undefined });
    const catalogue = createModelCatalogue({ defaultModel: { provider: "anthropic", id: "claude-fake-1", offline: false }, anthropic: providers.anthropic, openaiCompatible: undefined, ttlMs: 60_000, now: () => clock });
    const [first, second] = await Promise.all([catalogue(), catalogue()]);
    expect(first).toEqual(second);
    await catalogue();
    expect(modelListings()).toHaveLength(1);
    clock += 60_001;
    await catalogue();
    expect(modelListings()).toHaveLength(2);
  });

  it("answers the offline model alone when no provider is configured", async () => {
    harness = await startTestGateway();
    const catalogue = await listed(harness);
    expect(catalogue).toMatchObject({ default: "offline", offline: true, unverified: [] });
    expect(catalogue.models.map((model) => model.id)).toEqual(["offline"]);
  });

  it("reports a provider whose list cannot be read as unverified, and reads it again later", async () => {
    let clock = 0;
    const failures: string[] = [];
    const providers = createProviders({ anthropic: { apiKey: "a-wrong-key", baseURL: upstream.url }, openai: undefined });
    const catalogue = createModelCatalogue({
      defaultModel: { provider: "anthropic", id: "claude-fake-1", offline: false },
      anthropic: providers.anthropic,
      openaiCompatible: undefined,
      failureTtlMs: 1_000,
      now: () => clock,
      onListFailed: (source, error) => failures.push(`${source}: ${(error as { code?: string }).code}`),
    });
    expect(await catalogue()).toMatchObject({ unverified: ["anthropic"], models: [{ id: "offline" }] });
    expect(failures).toEqual(["anthropic: provider_auth_failed"]);
    await catalogue();
    expect(modelListings()).toHaveLength(1);
    clock += 1_001;
    await catalogue();
    expect(modelListings()).toHaveLength(2);
  });
});
