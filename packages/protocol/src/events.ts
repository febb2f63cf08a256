import { z } from "zod";
import { ErrorDetail } from "./errors";
import { HeartbeatResult } from "./heartbeat";

/** Token counts reported by a provider (or estimated by the offline model). */
export const Usage = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof Usage>;

export const ModelInfo = z.object({
  /** "anthropic" | "openai-compatible" | "offline" */
  provider: z.string(),
  id: z.string(),
  /** True when the reply comes from the built-in offline model, never a real LLM. */
  offline: z.boolean(),
});
export type ModelInfo = z.infer<typeof ModelInfo>;

const base = {
  runId: z.string(),
  /** Strictly increasing per run, starting at 1. Clients resume with the last seq they saw. */
  seq: z.number().int().positive(),
};

export const RunStartEvent = z.object({
  ...base,
  type: z.literal("run-start"),
  agent: z.string(),
  sessionKey: z.string(),
  sessionId: z.string(),
  model: ModelInfo,
  at: z.string(),
});
export const TextDeltaEvent = z.object({ ...base, type: z.literal("text-delta"), delta: z.string() });
export const ToolCallStartEvent = z.object({
  ...base,
  type: z.literal("tool-call-start"),
  toolCallId: z.string(),
  name: z.string(),
  input: z.unknown(),
});
export const ToolCallEndEvent = z.object({
  ...base,
  type: z.literal("tool-call-end"),
  toolCallId: z.string(),
  name: z.string(),
  output: z.string(),
  isError: z.boolean(),
});
export const UsageEvent = z.object({ ...base, type: z.literal("usage"), usage: Usage });
/**
 * A tool call whose tool is in `ask` mode (issue 15): the run stops here and ends `paused`; a
 * member's decision (`POST /v1/agents/:slug/sessions/:key/approvals/:approvalId`) starts the run
 * that carries on. `input` is the call's arguments as the model gave them.
 */
export const ApprovalRequiredEvent = z.object({
  ...base,
  type: z.literal("approval-required"),
  approvalId: z.string(),
  toolCallId: z.string(),
  name: z.string(),
  input: z.unknown(),
  at: z.string(),
});
/** How a run ended; `paused`: it waits for a member to approve a tool call (see ApprovalRequiredEvent). */
export const RunStatus = z.enum(["ok", "aborted", "error", "paused"]);
export type RunStatus = z.infer<typeof RunStatus>;
export const RunEndEvent = z.object({
  ...base,
  type: z.literal("run-end"),
  status: RunStatus,
  usage: Usage,
  error: ErrorDetail.optional(),
  /** A heartbeat run's outcome (GatewayRunInput.heartbeat); absent for every other run. */
  heartbeat: HeartbeatResult.optional(),
  at: z.string(),
});

export const RunEvent = z.discriminatedUnion("type", [
  RunStartEvent,
  TextDeltaEvent,
  ToolCallStartEvent,
  ToolCallEndEvent,
  UsageEvent,
  ApprovalRequiredEvent,
  RunEndEvent,
]);
export type RunEvent = z.infer<typeof RunEvent>;
export type RunEventType = RunEvent["type"];
export type RunStartEvent = z.infer<typeof RunStartEvent>;
export type TextDeltaEvent = z.infer<typeof TextDeltaEvent>;
export type ToolCallStartEvent = z.infer<typeof ToolCallStartEvent>;
export type ToolCallEndEvent = z.infer<typeof ToolCallEndEvent>;
export type UsageEvent = z.infer<typeof UsageEvent>;
export type ApprovalRequiredEvent = z.infer<typeof ApprovalRequiredEvent>;
export type RunEndEvent = z.infer<typeof RunEndEvent>;

/** An event before the run manager stamps it with runId and seq. */
export type RunEventInput = RunEvent extends infer E
  ? E extends RunEvent
    ? Omit<E, "runId" | "seq">
    : never
  : never;
