import type Anthropic from "@anthropic-ai/sdk";
import type { Usage } from "@workforce/protocol";
import { AppError } from "@workforce/protocol";
import type { ModelMessage, ModelRequest, ModelStreamPart, ToolSpec } from "../../model-provider";

/**
 * What both Anthropic paths (the lean node:http one and the SDK one) share: the request body they
 * send and the translation of the Messages stream events into ModelStreamParts. One translation,
 * so usage, stop reasons and tool inputs cannot drift between the paths.
 */

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

/** The `POST /v1/messages` body of a streamed request. */
export function messagesBody(request: ModelRequest): Anthropic.MessageCreateParamsStreaming {
  return {
    model: request.model,
    max_tokens: request.maxOutputTokens,
    system: request.system,
    messages: toAnthropicMessages(request.messages),
    ...(request.tools.length > 0 ? { tools: toAnthropicTools(request.tools) } : {}),
    stream: true,
  };
}

function parseToolInput(json: string, name: string): unknown {
  if (json.trim() === "") return {};
  try {
    return JSON.parse(json) as unknown;
  } catch {
    throw new AppError("provider_error", `the model sent malformed input for tool "${name}"`);
  }
}

interface OpenTool {
  id: string;
  name: string;
  json: string;
}

/**
 * The state of one streamed reply: feed it each event, yield what it returns, then `finish()`.
 * Input tokens count cache writes and reads too (the prompt the model read, however it was billed).
 */
export class AnthropicReply {
  private readonly usage: Usage = { inputTokens: 0, outputTokens: 0 };
  private stopReason = "end_turn";
  private tools: Map<number, OpenTool> | undefined;
  private stopped = false;

  event(event: Anthropic.RawMessageStreamEvent): ModelStreamPart | undefined {
    switch (event.type) {
      case "message_start": {
        const start = event.message.usage;
        this.usage.inputTokens = start.input_tokens + (start.cache_creation_input_tokens ?? 0) + (start.cache_read_input_tokens ?? 0);
        this.usage.outputTokens = start.output_tokens;
        return undefined;
      }
      case "content_block_start":
        if (event.content_block.type === "tool_use") {
          (this.tools ??= new Map()).set(event.index, { id: event.content_block.id, name: event.content_block.name, json: "" });
        }
        return undefined;
      case "content_block_delta":
        if (event.delta.type === "text_delta") return { type: "text-delta", text: event.delta.text };
        if (event.delta.type === "input_json_delta") {
          const tool = this.tools?.get(event.index);
          if (tool) tool.json += event.delta.partial_json;
        }
        return undefined;
      case "content_block_stop": {
        const tool = this.tools?.get(event.index);
        return tool ? { type: "tool-call", toolCallId: tool.id, name: tool.name, input: parseToolInput(tool.json, tool.name) } : undefined;
      }
      case "message_delta": {
        const usage = event.usage;
        if (event.delta.stop_reason) this.stopReason = event.delta.stop_reason;
        this.usage.outputTokens = usage.output_tokens;
        if (usage.input_tokens != null) this.usage.inputTokens = usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
        return undefined;
      }
      case "message_stop":
        this.stopped = true;
        return undefined;
      default:
        return undefined;
    }
  }

  /**
   * The closing part. A stream that ended without `message_stop` (a proxy or the API hung up
   * cleanly mid-reply) is a failure, not a short answer; unless the caller aborted it.
   */
  finish(signal: AbortSignal): ModelStreamPart {
    if (!this.stopped && !signal.aborted) {
      throw new AppError("provider_error", "the Anthropic stream ended before the reply was complete", { retryable: true });
    }
    return { type: "finish", stopReason: this.stopReason, usage: this.usage };
  }
}
