import { AppError, type AttachmentUpload, type RunIntegrations, type AssistantMessageEntry, type ErrorDetail, type HeartbeatResult, type PendingApproval, type RunEventInput, type TranscriptEntry, type Usage } from "@workforce/protocol";
import type { TenantRoots } from "@workforce/protocol/tenant-path";
import type { SystemPromptCache } from "../agents/system-prompt-cache";
import type { DiskGuard } from "../fs/disk-bytes";
import { storageError } from "../fs/storage-error";
import type { ModelMessage, ResolvedModel } from "../llm/model-provider";
import { errorText, type Logger } from "../logger";
import type { SessionStore } from "../sessions/session-store";
import { mergeTools, type RunToolSource, type RunToolset } from "../tools/run-tools";
import type { Tool, ToolDisk } from "../tools/tool";
import { approvalPendingError, decisionLine, decisionOf, pendingFor, remainingCalls, type ApprovalResume } from "./approval-resume";
import { replacedMessage } from "./message-replacement";
import { DEFAULT_COMPACTION, planCompaction, type CompactionOptions } from "./compaction";
import { attachmentContent, loadAttachmentContents, storeAttachments } from "./attachments";
import { toModelMessages } from "./model-context";
import { toolPolicy } from "./tool-modes";
import { runToolCalls, type ToolCall, type ToolStepRun } from "./tool-step";

export interface AgentLoopDeps {
  tenantRoots: TenantRoots;
  systemPrompts: Pick<SystemPromptCache, "get">;
  /** The session store; a heartbeat run passes its buffer instead (heartbeat-run.ts). */
  sessions: Pick<SessionStore, "readTranscript" | "append">;
  tools: readonly Tool[];
  /** Tools a run's integrations add (MCP, Composio, web): opened before the first model call, closed when the run ends. */
  runTools?: RunToolSource | undefined;
  logger: Logger;
  now: () => Date;
  newId: () => string;
  /** Model calls per run (each tool round trip is one more). */
  maxSteps: number;
  maxOutputTokens: number;
  /** When to fold older turns into a summary; defaults to a 200k-token window. */
  compaction?: CompactionOptions;
  /** Tenants' disk quotas, for the tools that write (none: unlimited). */
  disk?: DiskGuard;
}

/** Everything a run needs; `emit` stamps and publishes an event. */
export interface RunContext {
  runId: string;
  tenantId: string;
  agent: string;
  sessionKey: string;
  sessionId: string;
  /** The user's message; empty for a run a decision started (`resume`). */
  message: string;
  /** Edit and resend, or regenerate (decision 041): the earlier run whose user message, and all after it, this message replaces. */
  replacesRunId?: string | undefined;
  /** Files sent with the message (decision 042), checked by the run manager. */
  attachments?: AttachmentUpload[] | undefined;
  /** Set on the run a decision on a paused tool call started (issue 15): it carries the call out (or refuses it) and goes on, instead of answering a message. */
  resume?: ApprovalResume | undefined;
  model: ResolvedModel;
  /** What the platform granted this run beyond the workspace tools; absent for hooks and the OpenAI-compatible endpoint. */
  integrations?: RunIntegrations | undefined;
  /** A heartbeat run (heartbeat-run.ts): executed by `runHeartbeat`, which wraps this loop. */
  heartbeat?: boolean | undefined;
  signal: AbortSignal;
  emit(event: RunEventInput): void;
}

export interface RunOutcome {
  status: "ok" | "aborted" | "error" | "paused";
  usage: Usage;
  error?: ErrorDetail;
  /** A heartbeat run's outcome (heartbeat-run.ts). */
  heartbeat?: HeartbeatResult;
  /** With `paused`: the tool call the run stopped at, waiting for a member's decision. */
  approval?: PendingApproval;
}

interface StepState {
  text: string;
  parentId: string | null;
}

/**
 * One agent turn: prepare (identity, history) → call the model → run tools → persist, repeated
 * until the model stops asking for tools. Every completed message is appended and fsynced before
 * the run can report success; a failure keeps the partial text, marked interrupted. A tool call in
 * `ask` mode ends the turn `paused` (tool-step.ts); the run a decision starts (`run.resume`) picks
 * the turn up at that call.
 */
export async function runAgentTurn(deps: AgentLoopDeps, run: RunContext): Promise<RunOutcome> {
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const ref = { tenantId: run.tenantId, agent: run.agent };
  const step: StepState = { text: "", parentId: null };
  /** Something of this run is in the transcript (its user message, or its decision): a partial reply may follow it. */
  let recorded = false;
  /** Persisting the user's message, started alongside the first model request; settled before anything else is written. */
  let userWrite: Promise<void> | undefined;
  let toolset: RunToolset | undefined;
  try {
    const tenant = await deps.tenantRoots.ensure(run.tenantId);
    const agentPaths = tenant.paths.agent(run.agent);
    const { disk } = deps;
    const toolDisk: ToolDisk | undefined = disk && { assertRoom: (bytes) => disk.assertRoom(run.tenantId, bytes), changed: (bytes) => disk.changed(run.tenantId, bytes) };
    // Fails with agent_identity_missing before anything is written or any model is called.
    const system = await deps.systemPrompts.get(run.tenantId, tenant.realRoot, agentPaths);
    const transcript = await deps.sessions.readTranscript(ref, run.sessionId);
    let entries = transcript.entries;
    let messages: ModelMessage[] = [];
    let signal = run.signal;
    let resumed: { calls: ToolCall[]; resume: ApprovalResume } | undefined;
    if (run.resume) {
      // Checked again here, under the session's lease: the decision route's check may be stale by now.
      const pending = pendingFor(transcript, run.resume.approvalId);
      // Durable before the call runs: an approval is carried out at most once, whatever happens next.
      await deps.sessions.append(ref, run.sessionKey, [decisionLine(run.resume, pending, run.runId, deps.newId(), deps.now().toISOString())]);
      recorded = true;
      resumed = { calls: remainingCalls(entries, pending), resume: run.resume };
      step.parentId = entries.at(-1)?.id ?? null;
    } else {
      // A message queued behind a run that then paused: it would follow a call nobody answered.
      if (transcript.pendingApproval) throw approvalPendingError(run.agent, run.sessionKey, transcript.pendingApproval);
      // An edit or regenerate: the model reads the conversation as it was before the replaced message.
      const replaced = replacedMessage(transcript, run.replacesRunId);
      const replaces = replaced ? { replaces: replaced.id } : {};
      if (replaced) entries = entries.slice(0, entries.indexOf(replaced));
      const compaction = await planCompaction({
        system,
        entries,
        incoming: { role: "user", content: [{ type: "text", text: run.message }] },
        model: run.model,
        options: deps.compaction ?? DEFAULT_COMPACTION,
        signal: run.signal,
        newId: deps.newId,
        now: deps.now,
      });
      if (compaction) {
        // Written before the user entry, so it withdraws the replaced messages first: a crash in between leaves a coherent conversation.
        const line = { ...compaction, ...replaces };
        await deps.sessions.append(ref, run.sessionKey, [line], { deferSummary: true });
        entries.push(line);
      }
      // The files first, durable in the workspace, then the entry that names them (attachments.ts).
      const attachments = run.attachments && run.attachments.length > 0 ? await storeAttachments(run.attachments, agentPaths, toolDisk, deps.newId) : [];
      const userEntry: TranscriptEntry = {
        type: "user",
        id: deps.newId(),
        parentId: entries.at(-1)?.id ?? null,
        timestamp: deps.now().toISOString(),
        runId: run.runId,
        content: [{ type: "text", text: run.message }],
        ...replaces,
        ...(attachments.length > 0 ? { attachments } : {}),
      };
      // The model request does not wait for the user's message to reach the disk (that is most of
      // the added time to first token); the reply is only written, and the run only reports ok,
      // once it has. If it cannot be written, the model request is cancelled.
      const writeFailed = new AbortController();
      signal = AbortSignal.any([run.signal, writeFailed.signal]);
      // Its registry update rides with the reply's (deferSummary): one registry write per run.
      userWrite = deps.sessions.append(ref, run.sessionKey, [userEntry], { deferSummary: true }).then(
        () => {
          recorded = true;
        },
        (error: unknown) => {
          writeFailed.abort(error);
          throw error;
        },
      );
      userWrite.catch(() => undefined); // awaited below; this only keeps an early failure from being reported as unhandled
      step.parentId = userEntry.id;
      const contents = await loadAttachmentContents(entries, agentPaths);
      run.attachments?.forEach((upload, index) => {
        const stored = attachments[index];
        if (stored) contents.set(stored.id, attachmentContent(stored, Buffer.from(upload.data, "base64")));
      });
      messages = toModelMessages([...entries, userEntry], contents);
    }
    toolset = run.integrations && deps.runTools
      ? await deps.runTools.open({ runId: run.runId, tenantId: run.tenantId, agent: run.agent, integrations: run.integrations, signal })
      : undefined;
    const tools = toolset ? mergeTools(deps.tools, toolset.tools, deps.logger, run.runId) : deps.tools;
    const policy = toolPolicy(tools, run.integrations);
    const stepRun: ToolStepRun = {
      runId: run.runId,
      ref,
      sessionKey: run.sessionKey,
      tools,
      policy,
      context: { tenantRoot: tenant.paths.root, agent: agentPaths, signal: run.signal, disk: toolDisk },
      emit: (event) => run.emit(event),
    };

    if (resumed) {
      const outcome = await runToolCalls(deps, stepRun, resumed.calls, step.parentId, decisionOf(resumed.resume));
      if (outcome.paused) return { status: "paused", usage, approval: outcome.paused };
      step.parentId = outcome.results.at(-1)?.id ?? step.parentId;
      messages = toModelMessages([...entries, ...outcome.results], await loadAttachmentContents(entries, agentPaths));
      if (run.signal.aborted) throw run.signal.reason;
    }

    for (let index = 0; index < deps.maxSteps; index += 1) {
      step.text = "";
      const toolCalls: ToolCall[] = [];
      let finish: { stopReason: string; usage: Usage } | undefined;
      for await (const part of run.model.provider.stream({
        model: run.model.model,
        system,
        messages,
        tools: policy.offered.map((tool) => tool.spec),
        maxOutputTokens: deps.maxOutputTokens,
        signal,
      })) {
        if (signal.aborted) break;
        if (part.type === "text-delta") {
          if (part.text === "") continue;
          step.text += part.text;
          run.emit({ type: "text-delta", delta: part.text });
        } else if (part.type === "tool-call") {
          toolCalls.push({ type: "tool-call", toolCallId: part.toolCallId, name: part.name, input: part.input });
          run.emit({ type: "tool-call-start", toolCallId: part.toolCallId, name: part.name, input: part.input });
        } else {
          finish = part;
        }
      }
      await userWrite;
      if (run.signal.aborted) throw run.signal.reason;
      if (!finish) throw new AppError("provider_error", "the model stream ended without finishing");
      usage.inputTokens += finish.usage.inputTokens;
      usage.outputTokens += finish.usage.outputTokens;

      const assistant: AssistantMessageEntry = {
        type: "assistant",
        id: deps.newId(),
        parentId: step.parentId,
        timestamp: deps.now().toISOString(),
        runId: run.runId,
        content: [...(step.text ? [{ type: "text" as const, text: step.text }] : []), ...toolCalls],
        model: run.model.info,
        usage: finish.usage,
        stopReason: finish.stopReason,
      };
      await deps.sessions.append(ref, run.sessionKey, [assistant]);
      step.parentId = assistant.id;
      step.text = "";
      run.emit({ type: "usage", usage: { ...usage } });
      if (toolCalls.length === 0) return { status: "ok", usage };

      const outcome = await runToolCalls(deps, stepRun, toolCalls, step.parentId);
      if (outcome.paused) return { status: "paused", usage, approval: outcome.paused };
      step.parentId = outcome.results.at(-1)?.id ?? step.parentId;
      messages.push({ role: "assistant", content: assistant.content });
      messages.push({ role: "user", content: outcome.results.map((entry) => ({ type: "tool-result", toolCallId: entry.toolCallId, name: entry.name, output: entry.output, isError: entry.isError })) });
      if (run.signal.aborted) throw run.signal.reason;
    }
    return { status: "ok", usage };
  } catch (caught) {
    // A model failure may come first while the user's message is still being written: wait for
    // it, so the partial reply below follows it, and report a failed write over the model's error.
    let error = caught;
    if (userWrite) {
      try {
        await userWrite;
      } catch (writeError) {
        error = writeError;
      }
    }
    const failure = classify(error, run.signal, deps.logger, run.runId);
    // Interrupted because another gateway has the session now: its transcript is not this run's to write.
    if (recorded && step.text && failure.error?.code !== "run_interrupted") await keepPartial(deps, run, step, failure.error ?? { code: "aborted", message: "the run was aborted" });
    return { ...failure, usage };
  } finally {
    if (toolset) await Promise.resolve(toolset.close()).catch((error: unknown) => deps.logger.warn(`run ${run.runId}: closing its tools failed (${errorText(error)})`));
  }
}

function classify(caught: unknown, signal: AbortSignal, logger: Logger, runId: string): Omit<RunOutcome, "usage"> {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof AppError) return { status: "error", error: { code: reason.code, message: reason.message } };
    return { status: "aborted" };
  }
  if (caught instanceof AppError) {
    // The message is written for the client; what caused it (endpoint, network or errno text) only for the log.
    if (caught.cause !== undefined) logger.warn(`run ${runId}: ${caught.code}: ${caught.message} (${errorText(caught.cause)})`);
    return { status: "error", error: { code: caught.code, message: caught.message } };
  }
  const storage = storageError(caught);
  if (storage) {
    logger.warn(`run ${runId}: ${storage.message} (${caught instanceof Error ? caught.message : String(caught)})`);
    return { status: "error", error: storage.toBody().error };
  }
  logger.error(`run ${runId} failed unexpectedly`, caught);
  return { status: "error", error: { code: "internal_error", message: "the run failed because of an internal gateway error; see the gateway log" } };
}

async function keepPartial(deps: AgentLoopDeps, run: RunContext, step: StepState, interrupted: ErrorDetail): Promise<void> {
  const entry: AssistantMessageEntry = {
    type: "assistant",
    id: deps.newId(),
    parentId: step.parentId,
    timestamp: deps.now().toISOString(),
    runId: run.runId,
    content: [{ type: "text", text: step.text }],
    model: run.model.info,
    usage: { inputTokens: 0, outputTokens: 0 },
    stopReason: "interrupted",
    interrupted: { code: interrupted.code, message: interrupted.message },
  };
  try {
    await deps.sessions.append({ tenantId: run.tenantId, agent: run.agent }, run.sessionKey, [entry]);
  } catch (error) {
    deps.logger.error(`run ${run.runId}: could not record the interrupted reply`, error);
  }
}
