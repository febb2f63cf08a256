import { z } from "zod";

const textPart = z.object({ type: z.literal("text"), text: z.string() });
const content = z.union([z.string(), z.array(z.looseObject({ type: z.string() })), z.null()]).optional();

/** The fields of a chat-completions request the fake relies on; everything else is accepted and recorded as sent. */
export const openaiRequestSchema = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string(), content })).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
});

/** A request that passed {@link openaiRequestSchema}. */
export type OpenaiRequest = z.infer<typeof openaiRequestSchema>;

/** Text of the system (and developer) messages, of the last user message and, when the request ends with `tool` messages, their joined content. */
export function openaiConversation(request: OpenaiRequest): { systemText: string; lastUserText: string; toolResultText: string | undefined } {
  const { messages } = request;
  const lastUser = messages.findLast((message) => message.role === "user");
  const results: string[] = [];
  for (let index = messages.length - 1; index >= 0 && messages[index]?.role === "tool"; index -= 1) {
    results.unshift(textOf(messages[index]?.content));
  }
  const systemText = messages.filter((message) => message.role === "system" || message.role === "developer").map((message) => textOf(message.content)).join("\n");
  return { systemText, lastUserText: textOf(lastUser?.content), toolResultText: results.length > 0 ? results.join("\n") : undefined };
}

function textOf(value: z.infer<typeof content>): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return value.flatMap((part) => {
    const text = textPart.safeParse(part);
    return text.success ? [text.data.text] : [];
  }).join("\n");
}
