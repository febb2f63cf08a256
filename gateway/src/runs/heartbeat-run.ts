import {
  AppError,
  DEFAULT_HEARTBEAT_ACK_MAX_CHARS,
  HEARTBEAT_ALERT_MAX_CHARS,
  HEARTBEAT_FILE_MAX_CHARS,
  isHeartbeatFileEmpty,
  type ErrorDetail,
} from "@workforce/protocol";
import { readHeartbeatText } from "../agents/heartbeat-file";
import { storageError } from "../fs/storage-error";
import type { SessionRef, SessionStore } from "../sessions/session-store";
import { runAgentTurn, type AgentLoopDeps, type RunContext, type RunOutcome } from "./agent-loop";
import { readHeartbeatReply } from "./heartbeat-reply";

const NO_USAGE = { inputTokens: 0, outputTokens: 0 };

/** What a heartbeat needs of the session store: its buffer reads through it, appends to it once, and answers summaries from it. */
type HeartbeatSessions = Pick<SessionStore, "readTranscript" | "append" | "get">;
/** A line a run appends to its transcript. */
type BufferedLine = Parameters<SessionStore["append"]>[2][number];

/** Added to a heartbeat's system prompt, with the checklist: the convention's "Heartbeat" section. */
function heartbeatSection(checklist: string): string {
  const capped = checklist.length > HEARTBEAT_FILE_MAX_CHARS ? `${checklist.slice(0, HEARTBEAT_FILE_MAX_CHARS)}\n[… HEARTBEAT.md truncated]` : checklist;
  return (
    "## Heartbeat\n" +
    "This run is a heartbeat: you were woken on a schedule, not by a message. Follow HEARTBEAT.md strictly. " +
    "If nothing needs attention, reply exactly HEARTBEAT_OK. Otherwise reply only the alert (without HEARTBEAT_OK): " +
    "it is sent to the people you work with.\n\n" +
    `<workspace-file name="HEARTBEAT.md">\n${capped.trim()}\n</workspace-file>`
  );
}

/**
 * A heartbeat's transcript writes, held in memory until its answer is known: dropped when it is
 * HEARTBEAT_OK (or the run fails), appended in one write (one fsync) when it is an alert. So a
 * crash at any point leaves the transcript as it was, or with the whole exchange (at worst its last
 * line torn, which readers skip), never a heartbeat's prompt without its answer interleaved
 * with later lines. Compactions fold history that is already kept: they are written at once.
 */
class TranscriptBuffer implements Pick<SessionStore, "readTranscript" | "append"> {
  private readonly entries: BufferedLine[] = [];
  private target: { ref: SessionRef; key: string } | undefined;

  constructor(private readonly sessions: HeartbeatSessions) {}

  readTranscript: SessionStore["readTranscript"] = (ref, sessionId) => this.sessions.readTranscript(ref, sessionId);

  /** Holds the entries; answers the session as it stands (nothing of them is in it yet). */
  append: SessionStore["append"] = async (ref, key, entries, options) => {
    if (entries.every((entry) => entry.type === "compaction")) return this.sessions.append(ref, key, entries, options);
    this.target = { ref, key };
    this.entries.push(...entries);
    return this.sessions.get(ref, key);
  };

  /** The text of the run's last reply. */
  replyText(): string {
    const last = this.entries.findLast((entry) => entry.type === "assistant");
    return last?.type === "assistant" ? last.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("") : "";
  }

  async keep(): Promise<void> {
    if (this.target && this.entries.length > 0) await this.sessions.append(this.target.ref, this.target.key, this.entries.splice(0));
  }
}

function cut(text: string): string {
  return text.length > HEARTBEAT_ALERT_MAX_CHARS ? `${text.slice(0, HEARTBEAT_ALERT_MAX_CHARS - 1)}…` : text;
}

function errorOf(error: unknown): ErrorDetail {
  const known = error instanceof AppError ? error : storageError(error);
  return known ? { code: known.code, message: known.message } : { code: "internal_error", message: "the run failed because of an internal gateway error; see the gateway log" };
}

/**
 * A heartbeat run (GatewayRunInput.heartbeat): reads the agent's HEARTBEAT.md and, when it is
 * missing or effectively empty, ends at once without a model call (`skipped`). Otherwise one agent
 * turn with the heartbeat prompt and HEARTBEAT.md in the system prompt, metered, queued and
 * admitted like any other run. An answer of HEARTBEAT_OK keeps nothing in the transcript (`ok`);
 * anything else is kept in the heartbeat session (`alert`, with its text).
 */
export async function runHeartbeat(deps: AgentLoopDeps & { sessions: HeartbeatSessions }, run: RunContext, ackMaxChars = DEFAULT_HEARTBEAT_ACK_MAX_CHARS): Promise<RunOutcome> {
  const tenant = await deps.tenantRoots.ensure(run.tenantId);
  const checklist = await readHeartbeatText(tenant.realRoot, tenant.paths.agent(run.agent));
  if (checklist === undefined || isHeartbeatFileEmpty(checklist)) return { status: "ok", usage: NO_USAGE, heartbeat: { outcome: "skipped" } };
  const transcript = new TranscriptBuffer(deps.sessions);
  const systemPrompts: AgentLoopDeps["systemPrompts"] = {
    get: async (...args) => `${await deps.systemPrompts.get(...args)}\n\n${heartbeatSection(checklist)}`,
  };
  const outcome = await runAgentTurn({ ...deps, sessions: transcript, systemPrompts }, run);
  if (outcome.status === "error" || outcome.status === "aborted") return { ...outcome, heartbeat: { outcome: "failed" } };
  const reply = readHeartbeatReply(transcript.replyText(), ackMaxChars);
  const answered = outcome.status === "ok";
  if (answered && reply.ack) return { ...outcome, heartbeat: { outcome: "ok" } };
  // Anything else needs attention: an alert, or a run that stopped to wait for a member's decision
  // on a tool call (approvals), which goes on from what it wrote: both are kept.
  const heartbeat = { outcome: "alert" as const, text: cut(answered ? reply.text : reply.text || "The heartbeat is waiting for a decision on a tool call.") };
  try {
    await transcript.keep();
  } catch (error) {
    deps.logger.warn(`run ${run.runId}: the heartbeat's alert could not be kept in its session (${error instanceof Error ? error.message : String(error)})`);
    // The alert still reaches the platform (usage record, run-end): people hear of it even so.
    return { status: "error", usage: outcome.usage, error: errorOf(error), heartbeat };
  }
  return { ...outcome, heartbeat };
}
