import { createGuardedFetch, type GuardedFetch, type GuardOptions, type OutboundPolicy } from "@workforce/net-guard";
import type { GatewayConfig } from "../config";
import { createAnthropicProvider } from "./adapters/anthropic/anthropic-provider";
import { createOpenAiCompatibleProvider } from "./adapters/openai-compatible/openai-compatible-provider";
import type { ModelProvider } from "./model-provider";
import { createOrganisationProviders, type OrganisationProviders } from "./organisation-providers";
import { withRetries } from "./with-retries";

/** Builds the real providers the configuration enables; the offline model is always there. */
export function createProviders(
  config: Pick<GatewayConfig, "anthropic" | "openai">,
  fetchImpl?: typeof fetch,
): { anthropic: ModelProvider | undefined; openaiCompatible: ModelProvider | undefined } {
  return {
    anthropic: config.anthropic
      ? withRetries(createAnthropicProvider({ apiKey: config.anthropic.apiKey, baseURL: config.anthropic.baseURL, ...(fetchImpl ? { fetch: fetchImpl } : {}) }))
      : undefined,
    openaiCompatible: config.openai
      ? withRetries(createOpenAiCompatibleProvider({ baseURL: config.openai.baseURL, apiKey: config.openai.apiKey, ...(fetchImpl ? { fetch: fetchImpl } : {}) }))
      : undefined,
  };
}

/**
 * Providers of organisations' own keys (decision 031): their connections go through the SSRF guard
 * under the operator's outbound policy (WORKFORCE_OUTBOUND_ALLOW_PRIVATE / _ALLOW_HOSTS), except a
 * key the platform marks as allowed on the private network (its policy opens every private address).
 */
export function createOrganisationModelProviders(outbound: OutboundPolicy, guard: GuardOptions = {}): OrganisationProviders {
  let guarded: GuardedFetch | undefined;
  return createOrganisationProviders({ fetchFor: (allowPrivateNetwork) => (allowPrivateNetwork ? undefined : (guarded ??= createGuardedFetch(outbound, guard))) });
}
