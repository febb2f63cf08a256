import type { ModelProvider, ModelStreamPart } from "../../model-provider";
import { estimateTokens, offlineReply, readIdentity, tokenize } from "./offline-reply";
import { abortableSleep } from "../../abortable-sleep";

export interface OfflineProviderOptions {
  /** Pause between tokens so the reply visibly streams. */
  tokenDelayMs: number;
}

/** The built-in model: no network, deterministic, and always labelled offline. */
export function createOfflineProvider(options: OfflineProviderOptions): ModelProvider {
  return {
    name: "offline",
    info: () => ({ provider: "offline", id: "offline", offline: true }),
    async *stream(request): AsyncGenerator<ModelStreamPart> {
      const lastUser = [...request.messages].reverse().find((message) => message.role === "user");
      const text = lastUser?.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("\n") ?? "";
      const reply = offlineReply(readIdentity(request.system), text);
      for (const token of tokenize(reply)) {
        await abortableSleep(options.tokenDelayMs, request.signal);
        yield { type: "text-delta", text: token };
      }
      // An image counts as its description would, not as its base64 bytes.
      const prompt = request.system + request.messages.map((message) => JSON.stringify(message.content.map((block) => (block.type === "image" ? { type: "image" } : block)))).join("");
      yield { type: "finish", stopReason: "end_turn", usage: { inputTokens: estimateTokens(prompt), outputTokens: estimateTokens(reply) } };
    },
  };
}
