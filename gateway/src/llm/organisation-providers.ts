import { createHash } from "node:crypto";
import { AppError, MODEL_KEY_PROVIDER_LABELS, type ModelKeyProvider, type RunModelKey } from "@workforce/protocol";
import { createAnthropicProvider } from "./adapters/anthropic/anthropic-provider";
import { createOpenAiCompatibleProvider } from "./adapters/openai-compatible/openai-compatible-provider";
import type { ModelProvider } from "./model-provider";
import { DEFAULT_RETRY_POLICY, withRetries, type RetryPolicy } from "./with-retries";

export interface OrganisationProvidersOptions {
  /**
   * The fetch an organisation's provider speaks through: the SSRF-guarded one (public addresses
   * only) unless the key may reach the private network (the operator allows it, for Ollama on its
   * own network). Undefined: the global fetch.
   */
  fetchFor(allowPrivateNetwork: boolean): typeof fetch | undefined;
  /** Providers kept built, least recently used dropped first. Default 256. */
  maxEntries?: number;
  retryPolicy?: RetryPolicy;
}

/** The provider for an organisation's own key, built once per (provider, key, base URL) and reused. */
export type OrganisationProviders = (provider: ModelKeyProvider, key: RunModelKey) => ModelProvider;

/**
 * Providers built with organisations' own keys (issue 14, decision 031). Building one costs an SDK
 * client, so they are cached, keyed by a hash of what they are built from: never by the key itself
 * or anything a log line shows, and bounded, so a thousand organisations cannot grow it without end.
 */
export function createOrganisationProviders(options: OrganisationProvidersOptions): OrganisationProviders {
  const maxEntries = options.maxEntries ?? 256;
  const built = new Map<string, ModelProvider>();
  return (provider, key) => {
    const id = cacheKey(provider, key);
    const cached = built.get(id);
    if (cached) {
      // Most recently used last: Map keeps insertion order.
      built.delete(id);
      built.set(id, cached);
      return cached;
    }
    const fetchImpl = options.fetchFor(key.allowPrivateNetwork);
    const adapter =
      provider === "anthropic"
        ? createAnthropicProvider({ apiKey: key.apiKey, baseURL: key.baseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) })
        : createOpenAiCompatibleProvider({ baseURL: requireBaseUrl(key), apiKey: key.apiKey, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    const created = withRetries(namingTheOrganisationsKey(adapter, provider, key.hint), options.retryPolicy ?? DEFAULT_RETRY_POLICY);
    built.set(id, created);
    while (built.size > maxEntries) {
      const oldest = built.keys().next().value as string;
      built.delete(oldest);
    }
    return created;
  };
}

function cacheKey(provider: ModelKeyProvider, key: RunModelKey): string {
  return createHash("sha256")
    .update(JSON.stringify([provider, key.apiKey, key.baseUrl ?? null, key.allowPrivateNetwork]))
    .digest("hex");
}

function requireBaseUrl(key: RunModelKey): string {
  // The platform refuses an OpenAI-compatible key without one; a run body without it is a bug upstream.
  if (!key.baseUrl) throw new AppError("provider_error", "the organisation's OpenAI-compatible key has no base URL; an owner or admin can set one under Integrations");
  return key.baseUrl;
}

/**
 * The adapters' messages name the operator's variables (ANTHROPIC_API_KEY, OPENAI_API_KEY): for an
 * organisation's key they would send its members to the wrong place. This names their key (by its
 * hint, never its value) and where to replace it.
 */
function namingTheOrganisationsKey(inner: ModelProvider, provider: ModelKeyProvider, hint: string): ModelProvider {
  const label = MODEL_KEY_PROVIDER_LABELS[provider];
  const rename = (error: unknown): unknown => {
    if (!(error instanceof AppError)) return error;
    if (error.code === "provider_auth_failed") {
      return new AppError(
        "provider_auth_failed",
        `the organisation's ${label} key ${hint} was refused by the provider; an owner or admin can replace it under Integrations → Model keys`,
        // The provider's own answer, for the log: the adapter's message names the operator's variables.
        { retryable: false, cause: error.cause },
      );
    }
    if (error.code === "provider_unreachable") {
      const refusal = guardRefusal(error);
      if (refusal) {
        return new AppError("provider_unreachable", `the organisation's ${label} base URL cannot be used: ${refusal}`, { retryable: false, cause: error.cause });
      }
      return new AppError("provider_unreachable", `cannot reach the organisation's ${label} base URL; details are in the gateway log`, { retryable: error.retryable ?? true, cause: error.cause });
    }
    return error;
  };
  return {
    name: inner.name,
    info: (model) => inner.info(model),
    async *stream(request) {
      try {
        yield* inner.stream(request);
      } catch (error) {
        throw rename(error);
      }
    },
  };
}

/**
 * The SSRF guard's refusal somewhere in the cause chain (it refuses a private or otherwise
 * forbidden address with an AppError of its own): its message, which names no secret.
 */
function guardRefusal(error: unknown): string | undefined {
  let current: unknown = error instanceof Error ? error.cause : undefined;
  for (let depth = 0; current instanceof Error && depth < 8; depth += 1) {
    if (current instanceof AppError && !current.code.startsWith("provider_")) return current.message;
    current = current.cause;
  }
  return undefined;
}
