import { z } from "zod";
import { ModelKeyProvider } from "./integrations";

/*
 * `/api/integrations/model-keys` (issue 14): an organisation's own model keys. The key is
 * write-only: set or replaced here, never answered again (only a hint such as "…abcd").
 */

/** How errors and screens name each provider. */
export const MODEL_KEY_PROVIDER_LABELS: Record<ModelKeyProvider, string> = { anthropic: "Anthropic", "openai-compatible": "OpenAI-compatible" };

const emptyToUndefined = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);

/** `PUT /api/integrations/model-keys/{provider}`: `baseUrl` is required for openai-compatible, optional for anthropic (Anthropic's API). */
export const ModelKeyInput = z.object({
  apiKey: z.string({ message: "is required" }).trim().min(1, "is required").max(4000, "is longer than any provider's key (4000 characters)"),
  baseUrl: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .trim()
      .max(2000, "must be at most 2000 characters")
      .url("must be a URL such as https://api.openai.com/v1")
      .refine((value) => /^https?:\/\//i.test(value), "must be an http:// or https:// URL")
      .refine((value) => !/^https?:\/\/[^/]*@/i.test(value), "must not carry a user name or password; the key goes in apiKey")
      .optional(),
  ),
});
export type ModelKeyInput = z.infer<typeof ModelKeyInput>;

/** One provider's key as anyone in the organisation may see it: whether it is set, never its value. */
export const ModelKeyView = z.object({
  provider: ModelKeyProvider,
  set: z.boolean(),
  /** "…abcd" when set. */
  hint: z.string().nullable(),
  baseUrl: z.string().nullable(),
  updatedAt: z.string().nullable(),
  /** Who set it last (null when unknown, e.g. the account is gone). */
  updatedBy: z.object({ userId: z.string(), email: z.string().nullable() }).nullable(),
});
export type ModelKeyView = z.infer<typeof ModelKeyView>;

/** What the operator decided about organisations' keys. */
export const ModelKeyPolicy = z.object({
  /** Whether a provider the organisation has no key for may use the operator's key (WORKFORCE_PLATFORM_KEY_FALLBACK). */
  platformKeyFallback: z.boolean(),
  /** Whether a base URL may point at some private addresses (the operator's outbound policy: an Ollama on its network). */
  privateBaseUrls: z.boolean(),
  /** Whether keys can be stored at all (the platform has its secret store). */
  available: z.boolean(),
});
export type ModelKeyPolicy = z.infer<typeof ModelKeyPolicy>;

export const ModelKeysResponse = z.object({ keys: z.array(ModelKeyView), policy: ModelKeyPolicy });
export type ModelKeysResponse = z.infer<typeof ModelKeysResponse>;

export const ModelKeyResponse = z.object({ key: ModelKeyView });
export type ModelKeyResponse = z.infer<typeof ModelKeyResponse>;
