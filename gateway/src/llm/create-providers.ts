import type { GatewayConfig } from "../config";
import { createAnthropicProvider } from "./adapters/anthropic/anthropic-provider";
import { createOpenAiCompatibleProvider } from "./adapters/openai-compatible/openai-compatible-provider";
import type { ModelProvider } from "./model-provider";
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
