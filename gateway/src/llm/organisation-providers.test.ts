import { describe, expect, it } from "vitest";
import { createOrganisationProviders } from "./organisation-providers";

const key = (apiKey: string, baseUrl = "https://models.example.com/v1") => ({ apiKey, baseUrl, hint: `…${apiKey.slice(-4)}`, allowPrivateNetwork: false });

describe("organisation providers", () => {
  it("builds one provider per (provider, key, base URL), reuses it, and keeps only the most recently used within the bound", () => {
    const asked: boolean[] = [];
    const providers = createOrganisationProviders({ maxEntries: 2, fetchFor: (allowPrivate) => (asked.push(allowPrivate), undefined) });
    const first = providers("openai-compatible", key("sk-one-1111"));
    expect(providers("openai-compatible", key("sk-one-1111"))).toBe(first);
    // Another key, another base URL or another provider: another client.
    expect(providers("openai-compatible", key("sk-two-2222"))).not.toBe(first);
    expect(providers("openai-compatible", key("sk-one-1111", "https://other.example.com/v1"))).not.toBe(first);
    // Bound of 2: the first was the least recently used and is built again.
    expect(providers("openai-compatible", key("sk-one-1111"))).not.toBe(first);
    expect(asked).toEqual([false, false, false, false]);
    expect(providers("anthropic", { ...key("sk-ant-3333"), allowPrivateNetwork: true }).name).toBe("anthropic");
    expect(asked.at(-1)).toBe(true);
  });
});
