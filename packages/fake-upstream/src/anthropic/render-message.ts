import { groupFrames, type RenderedFrame, type StreamFrames } from "../delivery";
import type { PlannedTurn } from "../plan-turn";
import { anthropicOverloadedEvent } from "./errors";

/** Ids the handler assigned to this turn. */
export interface MessageIds {
  messageId: string;
  /** One id per planned tool call, in order. */
  toolIds: readonly string[];
}

type ContentBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

function usageOf(inputTokens: number, outputTokens: number): Record<string, unknown> {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
    service_tier: "standard",
  };
}

function messageOf(turn: PlannedTurn, ids: MessageIds, model: string, content: ContentBlock[], done: boolean): Record<string, unknown> {
  return {
    id: ids.messageId,
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: done ? turn.stopReason : null,
    stop_sequence: null,
    usage: usageOf(turn.usage.inputTokens, done ? turn.usage.outputTokens : 1),
  };
}

function hasTextBlock(turn: PlannedTurn): boolean {
  return turn.textPieces.length > 0 || turn.toolCalls.length === 0;
}

/** The non-streaming Message body. */
export function renderMessage(turn: PlannedTurn, ids: MessageIds, model: string): Record<string, unknown> {
  const content: ContentBlock[] = hasTextBlock(turn) ? [{ type: "text", text: turn.textPieces.join("") }] : [];
  turn.toolCalls.forEach((call, index) => {
    content.push({ type: "tool_use", id: ids.toolIds[index] ?? "", name: call.name, input: call.input });
  });
  return messageOf(turn, ids, model, content, true);
}

function event(type: string, data: unknown, token = false): RenderedFrame {
  return { text: `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`, token };
}

/** The SSE events of one turn: message_start, content blocks with deltas, ping, message_delta, message_stop. */
export function renderMessageStream(turn: PlannedTurn, ids: MessageIds, model: string): StreamFrames {
  const frames: RenderedFrame[] = [event("message_start", { type: "message_start", message: messageOf(turn, ids, model, [], false) })];
  let index = 0;
  const startBlock = (block: ContentBlock): void => {
    frames.push(event("content_block_start", { type: "content_block_start", index, content_block: block }));
    if (index === 0) frames.push(event("ping", { type: "ping" }));
  };
  const delta = (value: Record<string, unknown>, token = true): void => {
    frames.push(event("content_block_delta", { type: "content_block_delta", index, delta: value }, token));
  };
  const stopBlock = (): void => {
    frames.push(event("content_block_stop", { type: "content_block_stop", index }));
    index += 1;
  };

  if (hasTextBlock(turn)) {
    startBlock({ type: "text", text: "" });
    for (const piece of turn.textPieces) delta({ type: "text_delta", text: piece });
    stopBlock();
  }
  turn.toolCalls.forEach((call, callIndex) => {
    startBlock({ type: "tool_use", id: ids.toolIds[callIndex] ?? "", name: call.name, input: {} });
    delta({ type: "input_json_delta", partial_json: "" }, false);
    for (const piece of call.argumentPieces) delta({ type: "input_json_delta", partial_json: piece });
    stopBlock();
  });
  frames.push(
    event("message_delta", {
      type: "message_delta",
      delta: { stop_reason: turn.stopReason, stop_sequence: null },
      usage: { output_tokens: turn.usage.outputTokens },
    }),
    event("message_stop", { type: "message_stop" }),
  );
  const malformed = `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\n\n`;
  return groupFrames(frames, anthropicOverloadedEvent, malformed);
}
