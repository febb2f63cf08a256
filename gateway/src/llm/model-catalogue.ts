import type { AvailableModel, ModelCatalogue, ModelInfo, ModelSource } from "@workforce/protocol";
import type { ListedModel, ModelProvider } from "./model-provider";
import { OPENAI_PREFIX } from "./model-router";

export interface ModelCatalogueOptions {
  /** The model agents without one of their own are served by now (the router's answer for `null`). */
  defaultModel: ModelInfo;
  anthropic: ModelProvider | undefined;
  openaiCompatible: ModelProvider | undefined;
  /** How long a provider's list is kept (default 5 minutes): listing costs a round trip, models change rarely. */
  ttlMs?: number;
  /** How long a failed listing is remembered before asking again (default 30 seconds). */
  failureTtlMs?: number;
  /** How long one listing may take (default 10 seconds). */
  timeoutMs?: number;
  now?: () => number;
  /** Told why a provider's list could not be read (the gateway's log). */
  onListFailed?: (source: ModelSource, error: unknown) => void;
}

export const OFFLINE_MODEL: AvailableModel = { id: "offline", provider: "offline", label: "Offline model (built in, no AI provider)" };

interface Listing {
  at: number;
  /** Undefined: the listing failed. */
  models: ListedModel[] | undefined;
}

/**
 * The models this gateway can serve (`GET /v1/models`): each configured provider's own list,
 * cached, and the offline model. A provider whose list cannot be read is reported as unverified.
 */
export function createModelCatalogue(options: ModelCatalogueOptions): () => Promise<ModelCatalogue> {
  const now = options.now ?? Date.now;
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const failureTtlMs = options.failureTtlMs ?? 30_000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const cache = new Map<ModelSource, Listing>();
  const pending = new Map<ModelSource, Promise<Listing>>();

  async function read(source: ModelSource, provider: ModelProvider): Promise<Listing> {
    const list = provider.listModels;
    if (!list) return { at: now(), models: undefined };
    try {
      return { at: now(), models: await list(AbortSignal.timeout(timeoutMs)) };
    } catch (error) {
      options.onListFailed?.(source, error);
      return { at: now(), models: undefined };
    }
  }

  /** One listing at a time per provider: concurrent callers share it. */
  async function listing(source: ModelSource, provider: ModelProvider): Promise<Listing> {
    const cached = cache.get(source);
    if (cached && now() - cached.at < (cached.models ? ttlMs : failureTtlMs)) return cached;
    let running = pending.get(source);
    if (!running) {
      running = read(source, provider).then((fresh) => {
        cache.set(source, fresh);
        pending.delete(source);
        return fresh;
      });
      pending.set(source, running);
    }
    return running;
  }

  const providers: [ModelSource, ModelProvider | undefined, (id: string) => string][] = [
    ["anthropic", options.anthropic, (id) => id],
    ["openai-compatible", options.openaiCompatible, (id) => `${OPENAI_PREFIX}${id}`],
  ];
  const { defaultModel } = options;
  const defaultId = defaultModel.offline ? OFFLINE_MODEL.id : defaultModel.provider === "openai-compatible" ? `${OPENAI_PREFIX}${defaultModel.id}` : defaultModel.id;

  return async () => {
    const models: AvailableModel[] = [OFFLINE_MODEL];
    const unverified: ModelSource[] = [];
    const configured = providers.filter((entry): entry is [ModelSource, ModelProvider, (id: string) => string] => entry[1] !== undefined);
    const listings = await Promise.all(configured.map(async ([source, provider]) => listing(source, provider)));
    configured.forEach(([source, , name], index) => {
      const listed = listings[index]?.models;
      if (!listed) unverified.push(source);
      else for (const model of listed) models.push({ id: name(model.id), provider: source, label: model.label });
    });
    return { default: defaultId, offline: configured.length === 0, models, unverified };
  };
}
