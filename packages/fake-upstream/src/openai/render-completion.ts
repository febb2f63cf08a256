import { groupFrames, type RenderedFrame, type StreamFrames } from "../delivery";
import type { PlannedTurn } from "../plan-turn";
import { openaiOverloadedEvent } from "./errors";

/** Ids and settings the handler chose for this turn. */
export interface CompletionIds {
  completionId: string;
  /** One id per planned tool call, in order. */
  callIds: readonly string[];
  /** Unix seconds. */
  created: number;
}

const finishReasons = { end_turn: "stop", stop_sequence: "stop", max_tokens: "length", tool_use: "tool_calls" } as const;

function usageOf(turn: PlannedTurn): Record<string, unknown> {
  const { inputTokens, outputTokens } = turn.usage;
  return {
    prompt_tokens: inputTokens,
    completion_tokens: outputTokens,
    total_tokens: inputTokens + outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

/** The non-streaming ChatCompletion body. */
export function renderCompletion(turn: PlannedTurn, ids: CompletionIds, model: string): Record<string, unknown> {
  const text = turn.textPieces.join("");
  const message: Record<string, unknown> = {
    role: "assistant",
    content: text === "" && turn.toolCalls.length > 0 ? null : text,
    refusal: null,
    annotations: [],
  };
  if (turn.toolCalls.length > 0) {
    message.tool_calls = turn.toolCalls.map((call, index) => ({
      id: ids.callIds[index] ?? "",
      type: "function",
      function: { name: call.name, arguments: JSON.stringify(call.input) },
    }));
  }
  return {
    id: ids.completionId,
    object: "chat.completion",
    created: ids.created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasons[turn.stopReason] }],
    usage: usageOf(turn),
    service_tier: "default",
    system_fingerprint: "fp_fake",
  };
}

/** The `data:` chunks of one turn: role, content / tool_calls deltas, finish_reason, optional usage, `[DONE]`. */
export function renderCompletionStream(turn: PlannedTurn, ids: CompletionIds, model: string, includeUsage: boolean): StreamFrames {
  const base = { id: ids.completionId, object: "chat.completion.chunk", created: ids.created, model, system_fingerprint: "fp_fake" };
  const usageField = includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, token = true, finishReason: string | null = null): RenderedFrame => ({
    text: `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...usageField })}\n\n`,
    token,
  });

  const frames: RenderedFrame[] = [chunk({ role: "assistant", content: turn.textPieces.length > 0 || turn.toolCalls.length === 0 ? "" : null, refusal: null }, false)];
  for (const piece of turn.textPieces) frames.push(chunk({ content: piece }));
  turn.toolCalls.forEach((call, index) => {
    const opening = { index, id: ids.callIds[index] ?? "", type: "function", function: { name: call.name, arguments: "" } };
    frames.push(chunk({ tool_calls: [opening] }, false));
    for (const piece of call.argumentPieces) frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  });
  frames.push(chunk({}, false, finishReasons[turn.stopReason]));
  if (includeUsage) frames.push({ text: `data: ${JSON.stringify({ ...base, choices: [], usage: usageOf(turn) })}\n\n`, token: false });
  frames.push({ text: "data: [DONE]\n\n", token: false });
  const malformed = `data: {"id":"${ids.completionId}","object":"chat.completion.chunk","choices":[{"delta":{"content":"\n\n`;
  return groupFrames(frames, openaiOverloadedEvent, malformed);
}
