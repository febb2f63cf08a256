import type { ApprovalDecision, ApprovalRequestLine, ContentBlock, PendingApproval, RunEventInput, ToolResultEntry } from "@workforce/protocol";
import type { Logger } from "../logger";
import type { SessionRef, SessionStore } from "../sessions/session-store";
import type { Tool, ToolContext } from "../tools/tool";
import { runTool } from "./run-tool";
import type { ToolPolicy } from "./tool-modes";

export type ToolCall = Extract<ContentBlock, { type: "tool-call" }>;

/** What running one model turn's tool calls needs. */
export interface ToolStepDeps {
  sessions: Pick<SessionStore, "append">;
  logger: Logger;
  now: () => Date;
  newId: () => string;
}

export interface ToolStepRun {
  runId: string;
  ref: SessionRef;
  sessionKey: string;
  tools: readonly Tool[];
  policy: ToolPolicy;
  context: ToolContext;
  emit(event: RunEventInput): void;
}

/** The calls' results, appended to the transcript; or, when a call needs approval, the approval the run stops at. */
export interface ToolStepOutcome {
  results: ToolResultEntry[];
  paused?: PendingApproval;
}

/** What the model reads when a member (or nobody, in time) refused the call. */
export function refusalText(decision: Pick<ApprovalDecision, "timedOut" | "reason">): string {
  const why = decision.reason ? ` Reason given: ${decision.reason}` : "";
  if (decision.timedOut) return `Nobody approved this tool call in time, so it was not run.${why} Go on without it, or ask the user.`;
  return `The user denied this tool call; it was not run.${why} Do not try it again unless the user asks; go on without it.`;
}

/**
 * Runs one model turn's tool calls in order, recording their results together. A call whose tool
 * is in `ask` mode stops the step: the results so far and the approval request are appended (one
 * fsynced write, so the pause is durable before anyone hears of it), `approval-required` is
 * emitted, and the run is to end `paused`. `decided`, when the step resumes after a decision,
 * applies to the first call (the one that was paused): approve runs it, deny records the refusal.
 */
export async function runToolCalls(
  deps: ToolStepDeps,
  run: ToolStepRun,
  calls: readonly ToolCall[],
  parentId: string | null,
  decided?: ApprovalDecision,
): Promise<ToolStepOutcome> {
  const results: ToolResultEntry[] = [];
  let parent = parentId;
  for (const [index, call] of calls.entries()) {
    const decision = index === 0 ? decided : undefined;
    const mode = decision ? undefined : run.policy.modeOf(call.name);
    if (mode === "ask") {
      const request: ApprovalRequestLine = {
        type: "approval-request",
        id: deps.newId(),
        timestamp: deps.now().toISOString(),
        runId: run.runId,
        approvalId: deps.newId(),
        toolCallId: call.toolCallId,
        name: call.name,
        input: call.input,
      };
      await deps.sessions.append(run.ref, run.sessionKey, [...results, request]);
      run.emit({ type: "approval-required", approvalId: request.approvalId, toolCallId: call.toolCallId, name: call.name, input: call.input, at: request.timestamp });
      const { approvalId, toolCallId, name, input, timestamp } = request;
      return { results, paused: { approvalId, runId: run.runId, toolCallId, name, input, requestedAt: timestamp } };
    }
    const result =
      decision?.decision === "deny"
        ? { output: refusalText(decision), isError: true }
        : mode === "deny"
          ? { output: `the ${call.name} tool is turned off for this agent`, isError: true }
          : await runTool(run.tools, call, run.context, deps.logger);
    run.emit({ type: "tool-call-end", toolCallId: call.toolCallId, name: call.name, output: result.output, isError: result.isError });
    const entry: ToolResultEntry = {
      type: "tool-result",
      id: deps.newId(),
      parentId: parent,
      timestamp: deps.now().toISOString(),
      runId: run.runId,
      toolCallId: call.toolCallId,
      name: call.name,
      output: result.output,
      isError: result.isError,
      ...(decision ? { approval: decision } : {}),
    };
    parent = entry.id;
    results.push(entry);
  }
  if (results.length > 0) await deps.sessions.append(run.ref, run.sessionKey, results);
  return { results };
}
