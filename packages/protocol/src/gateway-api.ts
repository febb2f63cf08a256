import { z } from "zod";
import { AttachmentRef, AttachmentUploads } from "./attachments";
import { ModelInfo, RunStatus, Usage } from "./events";
import { RunTrigger } from "./tenant-events";
import { HeartbeatResult } from "./heartbeat";

/** Agent slugs name directories, so they are deliberately narrow. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** Session keys are chosen by clients; they live only inside sessions.json, never in a path. */
export const SESSION_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const Slug = z.string().regex(SLUG_PATTERN, "must be 1-64 characters of a-z, 0-9 and '-', starting with a letter or digit");
export const SessionKey = z
  .string()
  .regex(SESSION_KEY_PATTERN, "must be 1-128 characters of letters, digits, '.', '_', ':' or '-'");
export const TenantId = z.string().regex(UUID_PATTERN, "must be a lowercase UUID");

/** A user or API key id as the platform names it to the gateway. */
export const ActorId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be an id of letters, digits, - and _");
export const RunActor = z.object({ userId: ActorId.optional(), apiKeyId: ActorId.optional() });
export type RunActor = z.infer<typeof RunActor>;

/**
 * Turns a display name into a slug: "Ada Lovelace" → "ada-lovelace", "agent" when nothing is left.
 * Latin letters only (accents are dropped); the gateway transliterates other scripts first and
 * makes the slug unique within the tenant when it derives one.
 */
export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/g, "");
  return slug || "agent";
}

export const AgentInput = z.object({
  slug: Slug.optional(),
  name: z.string().trim().min(1, "is required").max(80),
  role: z.string().trim().min(1, "is required").max(200),
  persona: z.string().max(8000).default(""),
  instructions: z.string().max(16000).default(""),
  emoji: z.string().max(16).default("🤖"),
  /** "offline", a Claude model id ("claude-…"), or "openai:<model>" for the OpenAI-compatible provider. Empty → gateway default. */
  model: z.string().trim().max(200).optional(),
});
export type AgentInput = z.input<typeof AgentInput>;

export const AgentUpdate = z.object({
  name: z.string().trim().min(1).max(80).optional(),
  role: z.string().trim().min(1).max(200).optional(),
  persona: z.string().max(8000).optional(),
  instructions: z.string().max(16000).optional(),
  emoji: z.string().max(16).optional(),
  model: z.string().trim().max(200).nullable().optional(),
});
export type AgentUpdate = z.infer<typeof AgentUpdate>;

export const Agent = z.object({
  slug: Slug,
  name: z.string(),
  role: z.string(),
  persona: z.string(),
  instructions: z.string(),
  emoji: z.string(),
  model: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Agent = z.infer<typeof Agent>;

/**
 * A tool call the session waits on (issue 15): the run that made it ended `paused`, and the next run
 * of the session is the one a member's decision starts. At most one per session at a time.
 */
export const PendingApproval = z.object({
  approvalId: z.string(),
  /** The run that paused. */
  runId: z.string(),
  toolCallId: z.string(),
  /** The tool's name as the model sees it (`write_file`, `mcp__crm__create_contact`, `GITHUB_CREATE_AN_ISSUE`). */
  name: z.string(),
  /** The call's arguments as the model gave them. */
  input: z.unknown(),
  requestedAt: z.string(),
});
export type PendingApproval = z.infer<typeof PendingApproval>;

/** The session list's view of a pending approval: what it is about, without the arguments (those are in the session's history). */
export const PendingApprovalSummary = PendingApproval.omit({ input: true });
export type PendingApprovalSummary = z.infer<typeof PendingApprovalSummary>;

export const SessionSummary = z.object({
  key: z.string(),
  sessionId: z.string(),
  title: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  model: z.string().nullable(),
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  messageCount: z.number().int().nonnegative(),
  lastMessagePreview: z.string(),
  /**
   * Where the title comes from (issue 16, decision 043): the first message (`message`, until a title
   * is generated), a short model-written title (`generated`), or the user (`user`, never replaced by a
   * generated one). Absent in registry entries written before.
   */
  titleSource: z.enum(["message", "generated", "user"]).optional(),
  /** Set while the session waits for a tool call's approval: new messages are refused (409 approval_pending) until it is decided. */
  pendingApproval: PendingApprovalSummary.optional(),
});
export type SessionSummary = z.infer<typeof SessionSummary>;

export const SessionUpdate = z.object({ title: z.string().trim().min(1).max(200) });

/* ---------- transcript lines ({sessionId}.jsonl) ---------- */

export const TextBlock = z.object({ type: z.literal("text"), text: z.string() });
export const ToolCallBlock = z.object({
  type: z.literal("tool-call"),
  toolCallId: z.string(),
  name: z.string(),
  input: z.unknown(),
});
export const ContentBlock = z.discriminatedUnion("type", [TextBlock, ToolCallBlock]);
export type ContentBlock = z.infer<typeof ContentBlock>;

export const TranscriptHeader = z.object({
  type: z.literal("session"),
  version: z.literal(1),
  sessionId: z.string(),
  key: z.string(),
  agent: z.string(),
  createdAt: z.string(),
});
export type TranscriptHeader = z.infer<typeof TranscriptHeader>;

/**
 * The fencing token of the run lease a line was written under (cluster mode only; docs/decisions/025).
 * Readers ignore a line whose fence is lower than one seen earlier in the file: it was written by a
 * gateway that had already lost the session to another. Never part of an API answer.
 */
const fence = z.number().int().nonnegative().optional();

const entryBase = {
  id: z.string(),
  parentId: z.string().nullable(),
  timestamp: z.string(),
  fence,
};

/**
 * Edit and regenerate without rewriting history (decision 041): an entry carrying `replaces`
 * withdraws the entry with that id, and everything after it, from the conversation. The
 * withdrawn lines stay in the file; readers fold them away (and the model never reads them).
 */
const replaces = z.string().optional();

export const UserMessageEntry = z.object({
  ...entryBase,
  type: z.literal("user"),
  runId: z.string().optional(),
  content: z.array(TextBlock),
  replaces,
  /** Files sent with the message (decision 042), stored in the agent's workspace before this line was written. */
  attachments: z.array(AttachmentRef).optional(),
});
export const AssistantMessageEntry = z.object({
  ...entryBase,
  type: z.literal("assistant"),
  runId: z.string().optional(),
  content: z.array(ContentBlock),
  model: ModelInfo,
  usage: Usage,
  stopReason: z.string(),
  /** Set when the run failed or was aborted part-way: the text is what arrived before that. */
  interrupted: z.object({ code: z.string(), message: z.string() }).optional(),
});
/** A member's answer to a paused tool call (issue 15). */
export const ApprovalDecision = z.object({
  approvalId: z.string(),
  decision: z.enum(["approve", "deny"]),
  /** The deny came from nobody deciding in time (the platform's timeout), not from a member. */
  timedOut: z.boolean().optional(),
  /** What the member (or the timeout) said; the model reads it with a denial. */
  reason: z.string().optional(),
  /** Who decided, as the platform named them (actor headers); empty for a timeout or a caller that named nobody. */
  decidedBy: RunActor,
});
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

export const ToolResultEntry = z.object({
  ...entryBase,
  type: z.literal("tool-result"),
  runId: z.string().optional(),
  toolCallId: z.string(),
  name: z.string(),
  output: z.string(),
  isError: z.boolean(),
  /** Set on the result of a call that waited for approval: how it was decided (a denial's output is the refusal the model read). */
  approval: ApprovalDecision.optional(),
});
export const CompactionEntry = z.object({
  ...entryBase,
  type: z.literal("compaction"),
  summary: z.string(),
  /** Id of the last entry the summary covers. */
  coversUntil: z.string(),
  /** Set when the run that compacted was an edit or regenerate: its withdrawal comes first (the user entry repeats it). */
  replaces,
});

export const TranscriptEntry = z.discriminatedUnion("type", [
  UserMessageEntry,
  AssistantMessageEntry,
  ToolResultEntry,
  CompactionEntry,
]);
export type TranscriptEntry = z.infer<typeof TranscriptEntry>;
export type UserMessageEntry = z.infer<typeof UserMessageEntry>;
export type AssistantMessageEntry = z.infer<typeof AssistantMessageEntry>;
export type ToolResultEntry = z.infer<typeof ToolResultEntry>;
export type CompactionEntry = z.infer<typeof CompactionEntry>;

/**
 * A transcript line that is not a message: a change to the session itself, recorded so the
 * transcript (the source of truth) can rebuild what the registry knows. The latest `title` wins.
 * Not part of `TranscriptEntry`: readers that want only messages keep parsing with that union,
 * and the gateway's history answers never contain these lines. Parse raw transcript lines with
 * `TranscriptLine` to accept both.
 */
export const SessionMetaEntry = z.object({
  type: z.literal("session-meta"),
  id: z.string(),
  timestamp: z.string(),
  /** The title the user gave the session, or a generated one (`titleSource`). */
  title: z.string().optional(),
  /** `generated`: written by the gateway's title step; it never replaces a title the user set. Absent: the user's. */
  titleSource: z.literal("generated").optional(),
  /** Written alone (no title) by a gateway taking over a session from one that crashed or stalled: from here on, lower fences are ignored. */
  fence,
});
export type SessionMetaEntry = z.infer<typeof SessionMetaEntry>;

/**
 * The durable pause (issue 15): a run stopped before a tool call in `ask` mode. Like session-meta,
 * not a message (never in `TranscriptEntry`, never sent to the model): the call stays unanswered
 * in its assistant entry until the decision's run records its result. The session waits on the
 * last request without a decision line.
 */
export const ApprovalRequestLine = z.object({
  type: z.literal("approval-request"),
  id: z.string(),
  timestamp: z.string(),
  fence,
  /** The run that paused. */
  runId: z.string(),
  approvalId: z.string(),
  toolCallId: z.string(),
  name: z.string(),
  input: z.unknown(),
});
export type ApprovalRequestLine = z.infer<typeof ApprovalRequestLine>;

/** The decision on a pause, written by the run it started before that run does anything else: decided once, whatever happens next. */
export const ApprovalDecisionLine = ApprovalDecision.extend({
  type: z.literal("approval-decision"),
  id: z.string(),
  timestamp: z.string(),
  fence,
  /** The run the decision started (it carries the call out, or gives the model the refusal, and goes on). */
  runId: z.string(),
  toolCallId: z.string(),
});
export type ApprovalDecisionLine = z.infer<typeof ApprovalDecisionLine>;

/** Any line after the header of `{sessionId}.jsonl`: a message entry, a session-meta line, or an approval's request or decision. */
export const TranscriptLine = z.union([TranscriptEntry, SessionMetaEntry, ApprovalRequestLine, ApprovalDecisionLine]);
export type TranscriptLine = z.infer<typeof TranscriptLine>;

export const SessionHistory = z.object({
  session: SessionSummary,
  entries: z.array(TranscriptEntry),
  /** The tool call the session waits on, with its arguments (the entries show the call without a result). */
  pendingApproval: PendingApproval.optional(),
});
export type SessionHistory = z.infer<typeof SessionHistory>;

/* ---------- runs ---------- */

export const SendMessageInput = z.object({
  message: z.string().min(1, "must not be empty").max(100_000),
  /** Continue this session; a new one is created when absent or unknown. */
  sessionKey: SessionKey.optional(),
  /** A retried send with the same key returns the same run instead of starting another. */
  idempotencyKey: z.string().min(1).max(200).optional(),
  /**
   * Edit and resend, or regenerate (decision 041): the user message of this earlier run of the
   * session, and everything after it, leave the conversation (kept in the transcript, never sent
   * to the model again) and this message takes its place. A run that left no message withdraws
   * nothing; one already replaced is refused (409 message_replaced).
   */
  replacesRunId: z.string().min(1).max(200).optional(),
  /** Text and image files for the model (decision 042); stored in the agent's workspace under `uploads/`. */
  attachments: AttachmentUploads.optional(),
});
export type SendMessageInput = z.infer<typeof SendMessageInput>;

/**
 * Where a run came from, for metering: the gateway records it with the run's usage. The platform
 * names the user or API key on whose behalf it sends (headers X-Workforce-User-Id and
 * X-Workforce-Api-Key-Id); runs through hooks and the OpenAI-compatible endpoint carry none.
 */
export const RunSource = z.enum(["http", "ws", "hook", "openai", "schedule"]);
export type RunSource = z.infer<typeof RunSource>;
export interface RunOrigin {
  source: RunSource;
  userId?: string | undefined;
  apiKeyId?: string | undefined;
  /** What fired a platform-fired run (issue 15). */
  trigger?: RunTrigger | undefined;
}
export const ACTOR_USER_HEADER = "x-workforce-user-id";
export const ACTOR_API_KEY_HEADER = "x-workforce-api-key-id";

/** A tenant's limits as the gateway enforces them. `null` means no limit. */
export const TenantLimits = z.object({
  /** Runs of this tenant executing at once on one gateway; the rest wait in the tenant's queue. */
  maxConcurrentRuns: z.number().int().min(1).max(10_000),
  /** Runs of this tenant waiting on one gateway; more get 429 tenant_queue_full. */
  maxQueuedRuns: z.number().int().min(0).max(100_000),
  /** Tokens (input + output) per calendar month (UTC); more runs get 429 budget_exceeded. */
  monthlyTokens: z.number().int().min(0).nullable(),
  /** Bytes under TENANT_DATA_DIR/{tenant} (transcripts, workspace, journals); more gets 507 tenant_quota_exceeded. */
  diskBytes: z.number().int().min(0).nullable(),
});
export type TenantLimits = z.infer<typeof TenantLimits>;

/**
 * What the platform pushes to the gateway about a tenant (`PUT /v1/tenant/policy`), kept in
 * `{tenant}/limits.json` where every gateway on the data dir reads it. `version` orders pushes:
 * an older version never replaces a newer one.
 */
export const TenantPolicy = z.object({
  version: z.number().int().min(0),
  suspended: z.boolean(),
  suspendedReason: z.string().max(500).nullable(),
  limits: TenantLimits,
});
export type TenantPolicy = z.infer<typeof TenantPolicy>;

/** The policy a gateway applies: pushed by the platform, or the gateway's defaults for a tenant it was never told about. */
export const EffectiveTenantPolicy = TenantPolicy.extend({ source: z.enum(["pushed", "default"]) });
export type EffectiveTenantPolicy = z.infer<typeof EffectiveTenantPolicy>;

/** `GET /v1/tenant/disk`: bytes under TENANT_DATA_DIR/{tenant} and the quota (`null`: none). */
export const TenantDiskUsage = z.object({
  usedBytes: z.number().int().min(0),
  quotaBytes: z.number().int().min(0).nullable(),
});
export type TenantDiskUsage = z.infer<typeof TenantDiskUsage>;

export const RunInfo = z.object({
  runId: z.string(),
  agent: z.string(),
  sessionKey: z.string(),
  sessionId: z.string(),
  status: z.enum(["queued", "running", "ok", "aborted", "error", "paused"]),
  lastSeq: z.number().int().nonnegative(),
});
export type RunInfo = z.infer<typeof RunInfo>;

/**
 * Gateway health in detail (`GET /` with the hook token, or from the gateway's own host). The
 * platform compares `dataDir.instanceId` with the marker it sees.
 */
export const GatewayHealth = z.object({
  status: z.literal("ok"),
  service: z.literal("gateway"),
  version: z.string(),
  uptimeSeconds: z.number(),
  dataDir: z.object({ path: z.string(), instanceId: z.string() }),
  model: ModelInfo,
});
export type GatewayHealth = z.infer<typeof GatewayHealth>;

/** What `GET /` tells anyone else (a load balancer, a stranger): whether the gateway is up, nothing about where or what it runs. */
export const GatewayHealthSummary = GatewayHealth.pick({ status: true });
export type GatewayHealthSummary = z.infer<typeof GatewayHealthSummary>;

/**
 * `GET /v1/capabilities`: what this gateway can offer runs beyond the workspace tools, as its
 * operator configured it, so the platform shows only what works (web search needs a provider).
 */
export const GatewayCapabilities = z.object({
  /** The web_fetch tool (always on a gateway that has the web tools). */
  webFetch: z.boolean(),
  /** The web_search tool's provider; null: web_search is not offered. */
  webSearch: z.object({ provider: z.enum(["brave", "searxng"]) }).nullable(),
});
export type GatewayCapabilities = z.infer<typeof GatewayCapabilities>;

/** A gateway built without integration tool sources (tests, embedded use): nothing beyond the workspace tools. */
export const NO_CAPABILITIES: GatewayCapabilities = { webFetch: false, webSearch: null };

/** Header names on the platform → gateway wire. */
export const TENANT_HEADER = "x-tenant-id";
export const HOOK_TOKEN_HEADER = "x-clawdbot-token";
/** OpenAI-compatible clients name the gateway session with this header; every answer carries it back. */
export const SESSION_KEY_HEADER = "x-session-key";
/** The run a response belongs to (run starts, SSE replays, chat completions, hooks). */
export const RUN_ID_HEADER = "x-run-id";

/** Whose model key a run used: the operator's (or none, offline) or the organisation's own (issue 14). */
export const KeySource = z.enum(["platform", "organisation"]);
export type KeySource = z.infer<typeof KeySource>;

/** Most characters of a tool call's arguments (as JSON) a usage record carries; the session's history has them whole. */
export const USAGE_APPROVAL_INPUT_MAX_CHARS = 8_000;

/** A paused run's approval as the usage journal tells the platform. */
export const UsageApproval = z.object({
  id: z.string().min(1).max(200),
  toolCallId: z.string().min(1).max(200),
  /** The tool's name as the model sees it. */
  tool: z.string().min(1).max(200),
  /**
   * The call's arguments: the JSON value itself, or, when their JSON is longer than
   * USAGE_APPROVAL_INPUT_MAX_CHARS, a string of its first characters and `inputTruncated: true`.
   */
  input: z.unknown(),
  inputTruncated: z.boolean().optional(),
  requestedAt: z.string().datetime(),
});
export type UsageApproval = z.infer<typeof UsageApproval>;

/**
 * One line of a tenant's usage journal (`{tenant}/usage.jsonl`): a run a gateway executed, from
 * any entry point, written once when it ended (also when it was aborted before it started).
 * Readers count a run id once, whatever they read twice.
 */
export const UsageRecord = z.object({
  runId: z.string().min(1).max(200),
  agent: z.string().min(1).max(200),
  sessionKey: z.string().min(1).max(200),
  source: RunSource,
  userId: ActorId.optional(),
  apiKeyId: ActorId.optional(),
  /** The model's id as the agent named it (provider-specific). */
  model: z.string().max(200),
  status: RunStatus,
  inputTokens: z.number().int().min(0),
  outputTokens: z.number().int().min(0),
  queuedAt: z.string().datetime(),
  endedAt: z.string().datetime(),
  /** Whose model key the run used (issue 14); absent in lines written before, which used the operator's. */
  keySource: KeySource.optional(),
  /** With `status: "paused"`: the tool call the run stopped at, waiting for a member's decision (issue 15). */
  approval: UsageApproval.optional(),
  /** Set on the run a decision started: which approval it carried out, and how it was decided. */
  resumes: ApprovalDecision.pick({ approvalId: true, decision: true, timedOut: true }).optional(),
  /** What fired it, when the platform did (schedule, heartbeat, approval resume; issue 15). */
  trigger: RunTrigger.optional(),
  /** A heartbeat run's outcome (issue 15); absent for every other run. */
  heartbeat: HeartbeatResult.optional(),
});
export type UsageRecord = z.infer<typeof UsageRecord>;

/** A journal record with where its line starts (`offset`) and the byte after it (`next`). */
export const UsageJournalEntry = z.object({ offset: z.number().int().min(0), next: z.number().int().min(0), record: UsageRecord });
export type UsageJournalEntry = z.infer<typeof UsageJournalEntry>;

/**
 * `GET /v1/usage/journal?after=&limit=`: the tenant's records from byte `after` on. `next` is the
 * cursor to ask with next time (past the last complete line read, damaged lines included);
 * `size` is the journal's size, so `next < size` means there is more.
 */
export const UsageJournalPage = z.object({ entries: z.array(UsageJournalEntry), next: z.number().int().min(0), size: z.number().int().min(0) });
export type UsageJournalPage = z.infer<typeof UsageJournalPage>;

/** `POST /v1/usage/pending`: the platform's cursors for a batch of tenants. */
export const UsagePendingRequest = z.object({
  cursors: z.array(z.object({ tenantId: TenantId, after: z.number().int().min(0) })).max(1_000),
});
export type UsagePendingRequest = z.infer<typeof UsagePendingRequest>;

/** The tenants among them whose journal size differs from the cursor (grown, or replaced after an erasure). */
export const UsagePendingResponse = z.object({ pending: z.array(z.object({ tenantId: TenantId, size: z.number().int().min(0) })) });
export type UsagePendingResponse = z.infer<typeof UsagePendingResponse>;
