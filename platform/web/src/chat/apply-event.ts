import type { RunEvent, TranscriptEntry } from "@workforce/protocol";
import type { AssistantMessage, AssistantPart, ChatMessage } from "./chat-types";

/** The assistant message after one run event; pure, so replays build exactly the same text. */
export function applyRunEvent(message: AssistantMessage, event: RunEvent): AssistantMessage {
  switch (event.type) {
    case "run-start":
      return { ...message, runId: event.runId, model: event.model };
    case "text-delta": {
      const parts = message.parts.slice();
      const last = parts[parts.length - 1];
      if (last?.type === "text") parts[parts.length - 1] = { type: "text", text: last.text + event.delta };
      else parts.push({ type: "text", text: event.delta });
      return { ...message, parts };
    }
    case "tool-call-start":
      return {
        ...message,
        parts: [...message.parts, { type: "tool", toolCallId: event.toolCallId, name: event.name, input: event.input, done: false }],
      };
    case "tool-call-end": {
      const found = message.parts.some((part) => part.type === "tool" && part.toolCallId === event.toolCallId);
      const ended: AssistantPart = {
        type: "tool",
        toolCallId: event.toolCallId,
        name: event.name,
        input: undefined,
        output: event.output,
        isError: event.isError,
        done: true,
      };
      const parts = found
        ? message.parts.map((part) =>
            part.type === "tool" && part.toolCallId === event.toolCallId
              ? { ...part, output: event.output, isError: event.isError, done: true }
              : part,
          )
        : [...message.parts, ended];
      return { ...message, parts };
    }
    case "usage":
      return { ...message, usage: event.usage };
    case "approval-required":
      return { ...message, approval: { approvalId: event.approvalId, toolCallId: event.toolCallId, name: event.name, input: event.input, requestedAt: event.at } };
    case "run-end":
      return {
        ...message,
        status: event.status,
        usage: event.usage,
        ...(event.error ? { error: { code: event.error.code, message: event.error.message, ...(event.error.retryable === undefined ? {} : { retryable: event.error.retryable }) } } : {}),
      };
  }
}

/** Chat messages from a session transcript: user and assistant text, tool calls with their results. */
export function messagesFromTranscript(entries: TranscriptEntry[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  for (const entry of entries) {
    if (entry.type === "user") {
      messages.push({
        id: entry.id,
        role: "user",
        text: entry.content.map((block) => block.text).join(""),
        ...(entry.runId ? { runId: entry.runId } : {}),
        ...(entry.attachments?.length ? { attachments: entry.attachments } : {}),
      });
    } else if (entry.type === "assistant") {
      const parts: AssistantPart[] = entry.content.map((block) =>
        block.type === "text"
          ? { type: "text", text: block.text }
          : { type: "tool", toolCallId: block.toolCallId, name: block.name, input: block.input, done: false },
      );
      const interrupted = entry.interrupted;
      messages.push({
        id: entry.id,
        role: "assistant",
        parts,
        status: interrupted ? (interrupted.code === "aborted" ? "aborted" : "error") : "ok",
        model: entry.model,
        usage: entry.usage,
        ...(entry.runId ? { runId: entry.runId } : {}),
        ...(interrupted ? { error: { code: interrupted.code, message: interrupted.message } } : {}),
      });
    } else if (entry.type === "tool-result") {
      attachToolResult(messages, entry.toolCallId, entry.output, entry.isError);
    }
  }
  return mergeAssistantTurns(messages);
}

function attachToolResult(messages: ChatMessage[], toolCallId: string, output: string, isError: boolean): void {
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    const message = messages[index];
    if (message?.role !== "assistant") continue;
    if (!message.parts.some((part) => part.type === "tool" && part.toolCallId === toolCallId)) continue;
    messages[index] = {
      ...message,
      parts: message.parts.map((part) =>
        part.type === "tool" && part.toolCallId === toolCallId ? { ...part, output, isError, done: true } : part,
      ),
    };
    return;
  }
}

/**
 * A run with tool calls is stored as several assistant entries (one per model turn); the live
 * stream shows it as one bubble, so consecutive assistant entries of one run are merged.
 */
function mergeAssistantTurns(messages: ChatMessage[]): ChatMessage[] {
  const merged: ChatMessage[] = [];
  for (const message of messages) {
    const previous = merged[merged.length - 1];
    if (message.role === "assistant" && previous?.role === "assistant" && (previous.runId ?? "") === (message.runId ?? "") && previous.runId) {
      merged[merged.length - 1] = { ...message, id: previous.id, parts: [...previous.parts, ...message.parts] };
    } else {
      merged.push(message);
    }
  }
  return merged;
}
