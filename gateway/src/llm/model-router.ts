import { AppError, MODEL_KEY_PROVIDER_LABELS, type ModelKeyProvider, type RunIntegrations } from "@workforce/protocol";
import type { ModelProvider, ResolvedModel } from "./model-provider";
import type { OrganisationProviders } from "./organisation-providers";

export interface ModelRouterOptions {
  defaultModel: string;
  offline: ModelProvider;
  /** Present when ANTHROPIC_API_KEY is set. */
  anthropic: ModelProvider | undefined;
  /** Present when OPENAI_BASE_URL or OPENAI_API_KEY is set. */
  openaiCompatible: ModelProvider | undefined;
  /** Providers built with an organisation's own key (issue 14); without it, runs use the operator's keys only. */
  organisation?: OrganisationProviders | undefined;
}

export const OPENAI_PREFIX = "openai:";

/**
 * Chooses the provider for an agent's model: "offline", "openai:<model>", or a Claude model id.
 * With the run's integrations (runs the platform sends), a provider the organisation has its own
 * key for uses that key; one it has none for uses the operator's, unless the operator turned that
 * fallback off (then `model_key_required`, before anything of the run is written).
 */
export type ModelRouter = (agentModel: string | null, integrations?: RunIntegrations) => ResolvedModel;

export function createModelRouter(options: ModelRouterOptions): ModelRouter {
  const offline = (): ResolvedModel => ({ provider: options.offline, model: "offline", info: options.offline.info("offline"), keySource: "platform" });

  /** The organisation's provider for `kind`, or undefined when the operator's is to be used. */
  function organisations(kind: ModelKeyProvider, wanted: string, integrations: RunIntegrations | undefined): ModelProvider | undefined {
    if (!integrations) return undefined;
    const key = integrations.modelKeys[kind];
    if (key && options.organisation) return options.organisation(kind, key);
    if (!integrations.platformKeyFallback) {
      throw new AppError(
        "model_key_required",
        `the agent uses "${wanted}", which needs this organisation's own ${MODEL_KEY_PROVIDER_LABELS[kind]} key: an owner or admin can add it under Integrations → Model keys (this installation does not lend its own key)`,
      );
    }
    return undefined;
  }

  return (agentModel, integrations) => {
    const wanted = agentModel?.trim() || options.defaultModel;
    if (wanted === "offline") return offline();
    if (wanted.startsWith(OPENAI_PREFIX)) {
      const model = wanted.slice(OPENAI_PREFIX.length);
      const own = organisations("openai-compatible", wanted, integrations);
      if (own) return { provider: own, model, info: own.info(model), keySource: "organisation" };
      if (!options.openaiCompatible) {
        throw new AppError(
          "provider_error",
          `the agent uses "${wanted}" but no OpenAI-compatible provider is configured: set OPENAI_BASE_URL (and OPENAI_API_KEY if the endpoint needs one) on the gateway, or add the organisation's own key under Integrations → Model keys`,
        );
      }
      return { provider: options.openaiCompatible, model, info: options.openaiCompatible.info(model), keySource: "platform" };
    }
    const own = organisations("anthropic", wanted, integrations);
    if (own) return { provider: own, model: wanted, info: own.info(wanted), keySource: "organisation" };
    if (!options.anthropic) return offline();
    return { provider: options.anthropic, model: wanted, info: options.anthropic.info(wanted), keySource: "platform" };
  };
}
