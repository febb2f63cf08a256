import type { PendingApproval, PendingApprovalSummary, SessionSummary, TranscriptEntry, TranscriptLine } from "@workforce/protocol";
import type { Transcript } from "./transcript";

export const TITLE_LENGTH = 60;
export const PREVIEW_LENGTH = 120;

export function truncate(text: string, length: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= length ? flat : `${flat.slice(0, length - 1).trimEnd()}…`;
}

/** A message's text blocks, joined (what the list's preview and the title step read). */
export function entryText(entry: TranscriptEntry): string {
  if (entry.type === "user" || entry.type === "assistant") {
    return entry.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
  }
  return "";
}

/** The session list's view of a pending approval: without the arguments, which may be long. */
function approvalSummary(pending: PendingApproval): PendingApprovalSummary {
  const { input: _input, ...summary } = pending;
  return summary;
}

/** `summary` waiting on `pending`, or on nothing (the field is left out rather than undefined). */
function withPending(summary: SessionSummary, pending: PendingApprovalSummary | undefined): SessionSummary {
  const { pendingApproval: _previous, ...rest } = summary;
  return pending ? { ...rest, pendingApproval: pending } : rest;
}

/**
 * Derives a registry entry from a transcript (the source of truth). A title the user chose is
 * recorded in the transcript (session-meta line) and wins; otherwise `previous` keeps the
 * registry's title, and a new entry is titled after the first user message.
 */
export function summarizeTranscript(transcript: Transcript, previous?: SessionSummary): SessionSummary {
  const { header, entries } = transcript;
  let inputTokens = 0;
  let outputTokens = 0;
  let messageCount = 0;
  let model: string | null = previous?.model ?? null;
  let lastText = "";
  let firstUserText = "";
  for (const entry of entries) {
    if (entry.type === "user" || entry.type === "assistant") {
      messageCount += 1;
      const text = entryText(entry);
      if (text.trim()) lastText = text;
      if (entry.type === "user" && !firstUserText) firstUserText = text;
    }
    if (entry.type === "assistant") {
      inputTokens += entry.usage.inputTokens;
      outputTokens += entry.usage.outputTokens;
      model = entry.model.id;
    }
  }
  const last = entries.at(-1);
  const summary: SessionSummary = {
    key: header.key,
    sessionId: header.sessionId,
    title: transcript.title || previous?.title || truncate(firstUserText, TITLE_LENGTH) || "New session",
    titleSource: transcript.titleSource ?? (previous?.title ? previous.titleSource : undefined) ?? "message",
    createdAt: header.createdAt,
    updatedAt: last?.timestamp ?? previous?.updatedAt ?? header.createdAt,
    model,
    inputTokens,
    outputTokens,
    messageCount,
    lastMessagePreview: truncate(lastText, PREVIEW_LENGTH),
  };
  return withPending(summary, transcript.pendingApproval && approvalSummary(transcript.pendingApproval));
}

/**
 * The registry entry after `lines` were appended to the transcript `summary` describes: the same
 * result as `summarizeTranscript` over the whole transcript, computed from the new lines only, so
 * persisting a message costs the same in a long session as in a new one.
 */
export function summarizeAppend(summary: SessionSummary, lines: readonly TranscriptLine[]): SessionSummary {
  let next = { ...summary };
  for (const line of lines) {
    if (line.type === "session-meta") {
      // A generated title never replaces one the user chose (decision 043).
      if (line.title && !(line.titleSource === "generated" && next.titleSource === "user")) {
        next.title = line.title;
        next.titleSource = line.titleSource ?? "user";
      }
      continue;
    }
    if (line.type === "approval-request") {
      const { approvalId, runId, toolCallId, name, timestamp } = line;
      next = withPending(next, { approvalId, runId, toolCallId, name, requestedAt: timestamp });
      continue;
    }
    if (line.type === "approval-decision") {
      if (next.pendingApproval?.approvalId === line.approvalId) next = withPending(next, undefined);
      continue;
    }
    next.updatedAt = line.timestamp;
    if (line.type === "user" || line.type === "assistant") {
      next.messageCount += 1;
      const text = entryText(line);
      if (text.trim()) next.lastMessagePreview = truncate(text, PREVIEW_LENGTH);
    }
    if (line.type === "assistant") {
      next.inputTokens += line.usage.inputTokens;
      next.outputTokens += line.usage.outputTokens;
      next.model = line.model.id;
    }
  }
  return next;
}
