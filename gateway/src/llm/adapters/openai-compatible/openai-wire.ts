import { z } from "zod";
import type { ModelMessage, ToolSpec } from "../../model-provider";

/** Chat Completions request messages, as OpenAI-compatible servers (OpenAI, Ollama, vLLM) expect them. */
/** A part of a user message with images (the Chat Completions content-parts form). */
export type ChatContentPart = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

export type ChatMessage =
  | { role: "system"; content: string }
  | { role: "user"; content: string | ChatContentPart[] }
  | { role: "assistant"; content: string | null; tool_calls?: { id: string; type: "function"; function: { name: string; arguments: string } }[] }
  | { role: "tool"; tool_call_id: string; content: string };

export function toChatMessages(system: string, messages: readonly ModelMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [{ role: "system", content: system }];
  for (const message of messages) {
    if (message.role === "assistant") {
      const text = message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
      const calls = message.content.flatMap((block) =>
        block.type === "tool-call" ? [{ id: block.toolCallId, type: "function" as const, function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } }] : [],
      );
      out.push({ role: "assistant", content: text || null, ...(calls.length > 0 ? { tool_calls: calls } : {}) });
      continue;
    }
    // Tool results must directly follow the assistant's tool calls, so they go first.
    for (const block of message.content) {
      if (block.type === "tool-result") out.push({ role: "tool", tool_call_id: block.toolCallId, content: block.isError ? `Error: ${block.output}` : block.output });
    }
    const text = message.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("\n");
    if (message.content.some((block) => block.type === "image")) {
      // Images (decision 042) need the parts form; text-only messages keep the plain string every server accepts.
      const parts = message.content.flatMap((block): ChatContentPart[] => {
        if (block.type === "text") return [{ type: "text", text: block.text }];
        if (block.type === "image") return [{ type: "image_url", image_url: { url: `data:${block.mediaType};base64,${block.data}` } }];
        return [];
      });
      out.push({ role: "user", content: parts });
    } else if (text) out.push({ role: "user", content: text });
  }
  return out;
}

export function toChatTools(tools: readonly ToolSpec[]) {
  return tools.map((tool) => ({ type: "function" as const, function: { name: tool.name, description: tool.description, parameters: tool.inputSchema } }));
}

/** One `data:` chunk of a streamed chat completion (only the fields the gateway reads). */
export const ChatCompletionChunk = z.object({
  choices: z
    .array(
      z.object({
        delta: z
          .object({
            content: z.string().nullish(),
            tool_calls: z
              .array(
                z.object({
                  index: z.number().int(),
                  id: z.string().nullish(),
                  function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
                }),
              )
              .nullish(),
          })
          .nullish(),
        finish_reason: z.string().nullish(),
      }),
    )
    .default([]),
  usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number() }).nullish(),
  error: z.object({ message: z.string().optional(), type: z.string().nullish() }).nullish(),
});
export type ChatCompletionChunk = z.infer<typeof ChatCompletionChunk>;

/** `GET /models`: OpenAI's list shape, which Ollama, vLLM and LiteLLM answer too. */
export const ModelList = z.object({ data: z.array(z.object({ id: z.string().min(1) }).passthrough()) });
