import { z } from "zod";

/** Where a model's replies come from. */
export const ModelSource = z.enum(["anthropic", "openai-compatible", "offline"]);
export type ModelSource = z.infer<typeof ModelSource>;

/** One model an agent may name: `id` is what goes into the agent's `model` field. */
export const AvailableModel = z.object({
  id: z.string().min(1),
  provider: ModelSource,
  /** A human name (the provider's display name when it gives one). */
  label: z.string().min(1),
});
export type AvailableModel = z.infer<typeof AvailableModel>;

/**
 * The models a gateway can serve (`GET /v1/models`, `GET /api/models`): read from each configured
 * provider's own `GET /v1/models`, cached; the offline model is always there.
 */
export const ModelCatalogue = z.object({
  /** The model an agent without one of its own uses (WORKFORCE_DEFAULT_MODEL), as it is served now. */
  default: z.string().min(1),
  /** True when no provider is configured: every reply comes from the offline model. */
  offline: z.boolean(),
  models: z.array(AvailableModel),
  /**
   * Providers configured here whose list could not be read right now: their models cannot be
   * checked, so saving an agent with one is allowed (and a wrong one fails at its first run).
   */
  unverified: z.array(ModelSource),
  /** Providers this organisation has its own key for (platform only): their models are not checked either. */
  ownKeys: z.array(ModelSource).optional(),
});
export type ModelCatalogue = z.infer<typeof ModelCatalogue>;

/** `openai:<model>` names a model of the OpenAI-compatible provider; "offline" the built-in one; anything else a Claude model. */
export function modelSource(model: string): ModelSource {
  if (model === "offline") return "offline";
  return model.startsWith("openai:") ? "openai-compatible" : "anthropic";
}

/**
 * Why `model` cannot be saved on an agent, or undefined when it can: it is listed, or its
 * provider's list is unknown (unverified, or the organisation's own key).
 */
export function modelProblem(catalogue: ModelCatalogue, model: string): string | undefined {
  const wanted = model.trim();
  if (wanted === "" || catalogue.models.some((candidate) => candidate.id === wanted)) return undefined;
  const source = modelSource(wanted);
  if (catalogue.unverified.includes(source) || catalogue.ownKeys?.includes(source)) return undefined;
  const names = catalogue.models.map((candidate) => candidate.id).join(", ");
  return `"${wanted.slice(0, 80)}" is not a model this installation can serve; choose one of: ${names}`;
}
