import { AppError } from "@workforce/protocol";
import type { ModelProvider, ResolvedModel } from "./model-provider";

export interface ModelRouterOptions {
  defaultModel: string;
  offline: ModelProvider;
  /** Present when ANTHROPIC_API_KEY is set. */
  anthropic: ModelProvider | undefined;
  /** Present when OPENAI_BASE_URL or OPENAI_API_KEY is set. */
  openaiCompatible: ModelProvider | undefined;
}

export const OPENAI_PREFIX = "openai:";

/** Chooses the provider for an agent's model: "offline", "openai:<model>", or a Claude model id. */
export type ModelRouter = (agentModel: string | null) => ResolvedModel;

export function createModelRouter(options: ModelRouterOptions): ModelRouter {
  return (agentModel) => {
    const wanted = agentModel?.trim() || options.defaultModel;
    if (wanted === "offline") return { provider: options.offline, model: "offline", info: options.offline.info("offline") };
    if (wanted.startsWith(OPENAI_PREFIX)) {
      const model = wanted.slice(OPENAI_PREFIX.length);
      if (!options.openaiCompatible) {
        throw new AppError(
          "provider_error",
          `the agent uses "${wanted}" but no OpenAI-compatible provider is configured: set OPENAI_BASE_URL (and OPENAI_API_KEY if the endpoint needs one) on the gateway`,
        );
      }
      return { provider: options.openaiCompatible, model, info: options.openaiCompatible.info(model) };
    }
    if (!options.anthropic) return { provider: options.offline, model: "offline", info: options.offline.info("offline") };
    return { provider: options.anthropic, model: wanted, info: options.anthropic.info(wanted) };
  };
}
