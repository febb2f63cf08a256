import { describe, expect, it } from "vitest";
import { modelProblem, modelSource, type ModelCatalogue } from "./models-api";

const catalogue: ModelCatalogue = {
  default: "claude-fake-1",
  offline: false,
  models: [
    { id: "offline", provider: "offline", label: "Offline model" },
    { id: "claude-fake-1", provider: "anthropic", label: "Claude Fake 1" },
  ],
  unverified: [],
};

describe("modelProblem", () => {
  it("accepts the default (empty), a listed model and the offline model", () => {
    expect([modelProblem(catalogue, ""), modelProblem(catalogue, " claude-fake-1 "), modelProblem(catalogue, "offline")]).toEqual([undefined, undefined, undefined]);
  });

  it("refuses a model nobody lists, naming the ones there are", () => {
    expect(modelProblem(catalogue, "claude-nonexistent-9")).toBe('"claude-nonexistent-9" is not a model this installation can serve; choose one of: offline, claude-fake-1');
    expect(modelProblem(catalogue, "openai:gpt-4o")).toContain("not a model this installation can serve");
  });

  it("accepts any model of a provider whose list is unknown: unverified, or the organisation's own key", () => {
    expect(modelProblem({ ...catalogue, unverified: ["anthropic"] }, "claude-nonexistent-9")).toBeUndefined();
    expect(modelProblem({ ...catalogue, ownKeys: ["openai-compatible"] }, "openai:gpt-4o")).toBeUndefined();
    expect(modelProblem({ ...catalogue, ownKeys: ["openai-compatible"] }, "claude-nonexistent-9")).toBeDefined();
  });

  it("tells the provider from the id", () => {
    expect([modelSource("offline"), modelSource("openai:llama3"), modelSource("claude-sonnet-5-5")]).toEqual(["offline", "openai-compatible", "anthropic"]);
  });
});
