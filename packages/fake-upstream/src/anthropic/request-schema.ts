import { z } from "zod";

const contentBlock = z.looseObject({ type: z.string() });
const textBlock = z.object({ type: z.literal("text"), text: z.string() });
const toolResultBlock = z.object({
  type: z.literal("tool_result"),
  content: z.union([z.string(), z.array(contentBlock)]).optional(),
});

/** The fields of a Messages API request the fake relies on; everything else is accepted and recorded as sent. */
export const anthropicRequestSchema = z.looseObject({
  model: z.string().min(1),
  max_tokens: z.number().int().min(1),
  messages: z
    .array(z.looseObject({ role: z.enum(["user", "assistant"]), content: z.union([z.string(), z.array(contentBlock)]) }))
    .min(1),
  stream: z.boolean().optional(),
  system: z.union([z.string(), z.array(contentBlock)]).optional(),
});

/** A request that passed {@link anthropicRequestSchema}. */
export type AnthropicRequest = z.infer<typeof anthropicRequestSchema>;

/** Text of the system prompt, of the last user message and, when that carries tool results, their joined text. */
export function anthropicConversation(request: AnthropicRequest): { systemText: string; lastUserText: string; toolResultText: string | undefined } {
  const systemText = textOfContent(request.system);
  const last = request.messages.findLast((message) => message.role === "user");
  if (last === undefined) return { systemText, lastUserText: "", toolResultText: undefined };
  if (typeof last.content === "string") return { systemText, lastUserText: last.content, toolResultText: undefined };
  const texts: string[] = [];
  const results: string[] = [];
  for (const block of last.content) {
    const text = textBlock.safeParse(block);
    if (text.success) texts.push(text.data.text);
    const result = toolResultBlock.safeParse(block);
    if (result.success) results.push(textOfContent(result.data.content));
  }
  return { systemText, lastUserText: texts.join("\n"), toolResultText: results.length > 0 ? results.join("\n") : undefined };
}

function textOfContent(content: string | readonly unknown[] | undefined): string {
  if (content === undefined) return "";
  if (typeof content === "string") return content;
  return content.flatMap((block) => {
    const text = textBlock.safeParse(block);
    return text.success ? [text.data.text] : [];
  }).join("\n");
}
