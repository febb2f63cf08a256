import Anthropic from "@anthropic-ai/sdk";
import type { Usage } from "@workforce/protocol";
import { AppError } from "@workforce/protocol";
import type { ListedModel, ModelMessage, ModelProvider, ModelStreamPart, ToolSpec } from "../../model-provider";
import { mapAnthropicError } from "./map-anthropic-error";

export interface AnthropicProviderOptions {
  apiKey: string;
  /** ANTHROPIC_BASE_URL (proxy, local fake); the SDK default otherwise. */
  baseURL?: string | undefined;
  fetch?: typeof fetch;
  /** Per-request timeout. */
  timeoutMs?: number;
}

function toAnthropicMessages(messages: readonly ModelMessage[]): Anthropic.MessageParam[] {
  return messages.map((message) => ({
    role: message.role,
    content: message.content.map((block): Anthropic.ContentBlockParam => {
      switch (block.type) {
        case "text":
          return { type: "text", text: block.text };
        case "image":
          return { type: "image", source: { type: "base64", media_type: block.mediaType as Anthropic.Base64ImageSource["media_type"], data: block.data } };
        case "tool-call":
          return { type: "tool_use", id: block.toolCallId, name: block.name, input: block.input ?? {} };
        case "tool-result":
          return { type: "tool_result", tool_use_id: block.toolCallId, content: block.output, is_error: block.isError };
      }
    }),
  }));
}

function toAnthropicTools(tools: readonly ToolSpec[]): Anthropic.Tool[] {
  return tools.map((tool) => ({ name: tool.name, description: tool.description, input_schema: { type: "object", ...tool.inputSchema } }));
}

function parseToolInput(json: string, name: string): unknown {
  if (json.trim() === "") return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new AppError("provider_error", `the model sent malformed input for tool "${name}"`);
  }
}

/** Claude through the official SDK (streaming, tool use). SDK retries are off: withRetries owns that policy. */
export function createAnthropicProvider(options: AnthropicProviderOptions): ModelProvider {
  const client = new Anthropic({
    apiKey: options.apiKey,
    ...(options.baseURL ? { baseURL: options.baseURL } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    maxRetries: 0,
    timeout: options.timeoutMs ?? 10 * 60_000,
  });
  const baseURL = client.baseURL;

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
    async *stream(request): AsyncGenerator<ModelStreamPart> {
      const usage: Usage = { inputTokens: 0, outputTokens: 0 };
      let stopReason = "end_turn";
      const tools = new Map<number, { id: string; name: string; json: string }>();
      try {
        const stream = await client.messages.create(
          {
            model: request.model,
            max_tokens: request.maxOutputTokens,
            system: request.system,
            messages: toAnthropicMessages(request.messages),
            ...(request.tools.length > 0 ? { tools: toAnthropicTools(request.tools) } : {}),
            stream: true,
          },
          { signal: request.signal },
        );
        for await (const event of stream) {
          switch (event.type) {
            case "message_start": {
              const start = event.message.usage;
              usage.inputTokens = start.input_tokens + (start.cache_creation_input_tokens ?? 0) + (start.cache_read_input_tokens ?? 0);
              usage.outputTokens = start.output_tokens;
              break;
            }
            case "content_block_start":
              if (event.content_block.type === "tool_use") {
                tools.set(event.index, { id: event.content_block.id, name: event.content_block.name, json: "" });
              }
              break;
            case "content_block_delta":
              if (event.delta.type === "text_delta") yield { type: "text-delta", text: event.delta.text };
              else if (event.delta.type === "input_json_delta") {
                const tool = tools.get(event.index);
                if (tool) tool.json += event.delta.partial_json;
              }
              break;
            case "content_block_stop": {
              const tool = tools.get(event.index);
              if (tool) yield { type: "tool-call", toolCallId: tool.id, name: tool.name, input: parseToolInput(tool.json, tool.name) };
              break;
            }
            case "message_delta":
              if (event.delta.stop_reason) stopReason = event.delta.stop_reason;
              usage.outputTokens = event.usage.output_tokens;
              if (event.usage.input_tokens != null) usage.inputTokens = event.usage.input_tokens + (event.usage.cache_creation_input_tokens ?? 0) + (event.usage.cache_read_input_tokens ?? 0);
              break;
            case "message_stop":
              break;
          }
        }
      } catch (error) {
        throw mapAnthropicError(error, baseURL);
      }
      yield { type: "finish", stopReason, usage };
    },
  };
}
