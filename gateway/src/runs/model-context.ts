import type { TranscriptEntry } from "@workforce/protocol";
import type { ModelContent, ModelMessage } from "../llm/model-provider";
import { attachmentsOf } from "./attachments";

/**
 * Turns transcript entries into the provider-neutral conversation. Tool calls without a recorded
 * result (an interrupted step) are dropped, consecutive same-role messages are merged, and a
 * compaction entry replaces everything it covers with its summary. A user message's files follow its
 * text, from `attachments` (loaded by the run); without it, only their names.
 */
export function toModelMessages(entries: readonly TranscriptEntry[], attachments?: ReadonlyMap<string, ModelContent>): ModelMessage[] {
  let start = 0;
  let summary: string | undefined;
  for (const entry of entries) {
    if (entry.type !== "compaction") continue;
    const covered = entries.findIndex((candidate) => candidate.id === entry.coversUntil);
    if (covered < 0) continue;
    start = Math.max(start, covered + 1);
    summary = entry.summary;
  }
  const visible = entries.slice(start).filter((entry) => entry.type !== "compaction");
  const answered = new Set(visible.flatMap((entry) => (entry.type === "tool-result" ? [entry.toolCallId] : [])));

  const messages: ModelMessage[] = [];
  const push = (role: ModelMessage["role"], content: ModelContent[]) => {
    if (content.length === 0) return;
    const last = messages.at(-1);
    if (last && last.role === role) last.content.push(...content);
    else messages.push({ role, content: [...content] });
  };
  if (summary) push("user", [{ type: "text", text: `Summary of the earlier conversation:\n${summary}` }]);
  for (const entry of visible) {
    if (entry.type === "user") push("user", [...entry.content.filter((block) => block.text !== ""), ...attachmentsOf(entry, attachments)]);
    else if (entry.type === "assistant") {
      push(
        "assistant",
        entry.content.flatMap((block): ModelContent[] => {
          if (block.type === "text") return block.text === "" ? [] : [block];
          return answered.has(block.toolCallId) ? [block] : [];
        }),
      );
    } else if (entry.type === "tool-result") {
      push("user", [{ type: "tool-result", toolCallId: entry.toolCallId, name: entry.name, output: entry.output, isError: entry.isError }]);
    }
  }
  return messages;
}
