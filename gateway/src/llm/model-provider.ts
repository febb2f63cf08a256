import type { KeySource, ModelInfo, Usage } from "@workforce/protocol";

/**
 * The one model interface the agent loop speaks. Adapters (anthropic, openai-compatible, offline)
 * translate it to their wire protocol; the loop never names a vendor.
 */
export type ModelContent =
  | { type: "text"; text: string }
  /** An image the user attached (decision 042): base64 bytes, one of IMAGE_MEDIA_TYPES. Only in user messages. */
  | { type: "image"; mediaType: string; data: string }
  | { type: "tool-call"; toolCallId: string; name: string; input: unknown }
  | { type: "tool-result"; toolCallId: string; name: string; output: string; isError: boolean };

export interface ModelMessage {
  role: "user" | "assistant";
  content: ModelContent[];
}

export interface ToolSpec {
  name: string;
  description: string;
  /** JSON Schema of the tool's input object. */
  inputSchema: Record<string, unknown>;
}

export interface ModelRequest {
  /** Provider-specific model id (without any "openai:" prefix). */
  model: string;
  system: string;
  messages: ModelMessage[];
  tools: ToolSpec[];
  maxOutputTokens: number;
  signal: AbortSignal;
}

export type ModelStreamPart =
  | { type: "text-delta"; text: string }
  | { type: "tool-call"; toolCallId: string; name: string; input: unknown }
  | { type: "finish"; stopReason: string; usage: Usage };

/**
 * A model provider. `stream` yields parts and ends with exactly one `finish`; failures are thrown
 * as AppError with a provider_* code (adapters map their vendor's errors).
 */
export interface ModelProvider {
  readonly name: string;
  info(model: string): ModelInfo;
  stream(request: ModelRequest): AsyncIterable<ModelStreamPart>;
  /** The models the provider's endpoint offers (its `GET /v1/models`); absent for the offline model. Throws AppError. */
  listModels?: (signal: AbortSignal) => Promise<ListedModel[]>;
}

/** One model a provider's endpoint lists: its id and, when it gives one, a human name. */
export interface ListedModel {
  id: string;
  label: string;
}

/** A provider chosen for one agent, with the model id it should be asked for. */
export interface ResolvedModel {
  provider: ModelProvider;
  model: string;
  info: ModelInfo;
  /** Whose key it speaks with: the operator's (or none, offline) or the organisation's own; recorded with the run's usage. */
  keySource?: KeySource;
}
