import Anthropic from "@anthropic-ai/sdk";
import type { ListedModel, ModelProvider, ModelRequest, ModelStreamPart } from "../../model-provider";
import { AnthropicReply, messagesBody } from "./anthropic-wire";
import { createLeanMessages } from "./lean-messages-stream";
import { mapAnthropicError } from "./map-anthropic-error";

export interface AnthropicProviderOptions {
  apiKey: string;
  /** ANTHROPIC_BASE_URL (proxy, local fake); the SDK default otherwise. */
  baseURL?: string | undefined;
  /**
   * Speak through this fetch (the SSRF-guarded one for organisations' keys): streaming then goes
   * through the SDK, which calls it. Without it, streaming takes the lean node:http path (decision 048).
   */
  fetch?: typeof fetch;
  /** Per-request timeout, until the response headers arrive (as the SDK's `timeout`). */
  timeoutMs?: number;
}

/**
 * Claude: streaming with tool use, listing models. Streaming takes the lean path (node:http,
 * keep-alive, one write per request) unless a fetch is given; listing, a cold path, stays on the
 * official SDK. SDK retries are off: withRetries owns that policy.
 */
export function createAnthropicProvider(options: AnthropicProviderOptions): ModelProvider {
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;
  const client = new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    maxRetries: 0,
    timeout: timeoutMs,
    // Failures reach the gateway's log as AppErrors with their cause; the SDK's own console lines
    // (a malformed event's raw text, model output included) would bypass it.
    logLevel: "off",
  });
  const baseURL = client.baseURL;
  const mapError = (error: unknown): unknown => mapAnthropicError(error, baseURL);
  const lean = options.fetch ? undefined : createLeanMessages({ apiKey: options.apiKey, baseURL, timeoutMs, mapError });

  async function* viaSdk(request: ModelRequest): AsyncGenerator<ModelStreamPart> {
    const reply = new AnthropicReply();
    try {
      const stream = await client.messages.create(messagesBody(request), { signal: request.signal });
      for await (const event of stream) {
        const part = reply.event(event);
        if (part) yield part;
      }
      yield reply.finish(request.signal);
    } catch (error) {
      throw mapError(error);
    }
  }

  return {
    name: "anthropic",
    info: (model) => ({ provider: "anthropic", id: model, offline: false }),
    async listModels(signal) {
      try {
        const models: ListedModel[] = [];
        // The SDK pages through `GET /v1/models` by itself.
        for await (const model of client.models.list({ limit: 100 }, { signal })) models.push({ id: model.id, label: model.display_name || model.id });
        return models;
      } catch (error) {
        throw mapAnthropicError(error, baseURL);
      }
    },
    stream: lean ?? viaSdk,
  };
}
