import type { CompactionEntry, TranscriptEntry } from "@workforce/protocol";
import type { ModelMessage, ResolvedModel } from "../llm/model-provider";
import { toModelMessages } from "./model-context";

export interface CompactionOptions {
  /** The model's context window, in tokens. */
  contextWindowTokens: number;
  /** Compact when the estimated prompt exceeds this share of the window. */
  compactAtRatio: number;
  /** Keep at least this share of the window as verbatim recent turns. */
  keepRecentRatio: number;
}

export const DEFAULT_COMPACTION: CompactionOptions = { contextWindowTokens: 200_000, compactAtRatio: 0.7, keepRecentRatio: 0.25 };

/** ≈4 characters per token: good enough to decide when to compact, never used for billing. */
export function estimatePromptTokens(system: string, messages: readonly ModelMessage[]): number {
  return Math.ceil((system.length + JSON.stringify(messages).length) / 4);
}

function entryText(entry: TranscriptEntry): string {
  switch (entry.type) {
    case "user":
      return `User: ${entry.content.map((block) => block.text).join(" ")}`;
    case "assistant":
      return `Assistant: ${entry.content.map((block) => (block.type === "text" ? block.text : `[called ${block.name}]`)).join(" ")}`;
    case "tool-result":
      return `Tool ${entry.name}: ${entry.output}`;
    case "compaction":
      return `Earlier summary: ${entry.summary}`;
  }
}

/**
 * Picks the entries to fold into a summary: everything before the most recent turns that fit in
 * the keep-recent budget, cut at a user message so tool calls and their results stay together.
 * Returns undefined when nothing sensible can be compacted.
 */
export function chooseCompactionCut(entries: readonly TranscriptEntry[], keepTokens: number): number | undefined {
  let kept = 0;
  for (let index = entries.length - 1; index > 0; index -= 1) {
    const entry = entries[index];
    if (!entry) continue;
    kept += Math.ceil(JSON.stringify(entry).length / 4);
    if (kept > keepTokens && entry.type === "user") return index;
  }
  return undefined;
}

/** A summary that needs no model: the gist of each covered message, clipped. Used offline and as a fallback. */
export function extractiveSummary(entries: readonly TranscriptEntry[], maxChars = 8_000): string {
  const lines = entries.map((entry) => {
    const text = entryText(entry).replace(/\s+/g, " ");
    return text.length > 240 ? `${text.slice(0, 239)}…` : text;
  });
  let summary = lines.join("\n");
  if (summary.length > maxChars) summary = `…\n${summary.slice(summary.length - maxChars)}`;
  return summary;
}

async function modelSummary(model: ResolvedModel, entries: readonly TranscriptEntry[], signal: AbortSignal): Promise<string | undefined> {
  let text = "";
  const transcript = entries.map(entryText).join("\n").slice(-400_000);
  for await (const part of model.provider.stream({
    model: model.model,
    system: "You compress conversations. Summarise the conversation below so the assistant can continue it: facts, decisions, open tasks, the user's preferences. Plain text, at most 400 words.",
    messages: [{ role: "user", content: [{ type: "text", text: transcript }] }],
    tools: [],
    maxOutputTokens: 1024,
    signal,
  })) {
    if (part.type === "text-delta") text += part.text;
  }
  return text.trim() || undefined;
}

/**
 * Decides whether the conversation must be compacted before the next model call and, if so,
 * builds the compaction entry (summarised by the model, or extractively when offline or failing).
 */
export async function planCompaction(args: {
  system: string;
  entries: readonly TranscriptEntry[];
  incoming: ModelMessage;
  model: ResolvedModel;
  options: CompactionOptions;
  signal: AbortSignal;
  newId: () => string;
  now: () => Date;
}): Promise<CompactionEntry | undefined> {
  const { options } = args;
  const messages = [...toModelMessages(args.entries), args.incoming];
  if (estimatePromptTokens(args.system, messages) <= options.contextWindowTokens * options.compactAtRatio) return undefined;
  const cut = chooseCompactionCut(args.entries, Math.floor(options.contextWindowTokens * options.keepRecentRatio));
  if (cut === undefined) return undefined;
  const before = args.entries.slice(0, cut);
  const last = before.at(-1);
  if (!last) return undefined;
  // What an earlier compaction already covers enters only through its summary.
  const previous = before.findLast((entry) => entry.type === "compaction");
  const previousEnd = previous ? before.findIndex((entry) => entry.id === previous.coversUntil) : -1;
  const covered = [...(previous ? [previous] : []), ...before.slice(previousEnd + 1).filter((entry) => entry.type !== "compaction")];
  let summary: string | undefined;
  if (!args.model.info.offline) {
    try {
      summary = await modelSummary(args.model, covered, args.signal);
    } catch (error) {
      if (args.signal.aborted) throw error;
    }
  }
  return {
    type: "compaction",
    id: args.newId(),
    parentId: args.entries.at(-1)?.id ?? null,
    timestamp: args.now().toISOString(),
    summary: summary ?? extractiveSummary(covered),
    coversUntil: last.id,
  };
}
