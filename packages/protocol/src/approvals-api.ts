import { z } from "zod";
import { AgentToolMode } from "./integrations";
import { SessionOwner } from "./platform-api";

/*
 * Tool approvals on the platform (issue 15): a tool call in `ask` mode pauses its run on the
 * gateway; the platform keeps one approval per pause (fed from the usage journal and the chat
 * stream), lets the session's owner or an owner/admin decide it, and resumes the run on the
 * gateway. What the platform API and the web app exchange about them.
 */

/** `pending` until decided; `expired`: nobody decided in time, so it was denied (reason "timeout"). */
export const ApprovalStatus = z.enum(["pending", "approved", "denied", "expired"]);
export type ApprovalStatus = z.infer<typeof ApprovalStatus>;

/** Who decided: a member, an API key, or the platform itself (the timeout). */
export const ApprovalDecider = z.object({
  type: z.enum(["user", "api-key", "system"]),
  id: z.string().nullable(),
  /** The member's address or the key's name, where the caller may see it. */
  label: z.string().nullable(),
});
export type ApprovalDecider = z.infer<typeof ApprovalDecider>;

export const ApprovalView = z.object({
  /** The gateway's approval id (also in the `approval-required` event). */
  id: z.string(),
  agent: z.string(),
  sessionKey: z.string(),
  /** Whose session it is: its owner (or an owner/admin) decides. */
  sessionOwner: SessionOwner,
  /** The run that paused. */
  runId: z.string(),
  toolCallId: z.string(),
  /** The tool's name as the model sees it (`write_file`, `web_fetch`, `mcp__crm__create_contact`, a Composio slug). */
  tool: z.string(),
  /** The call's arguments as the model gave them; with `inputTruncated`, the first characters of their JSON. */
  input: z.unknown(),
  inputTruncated: z.boolean(),
  status: ApprovalStatus,
  requestedAt: z.string(),
  /** When a pending approval is denied for want of a decision. */
  expiresAt: z.string(),
  decidedAt: z.string().nullable(),
  decidedBy: ApprovalDecider.nullable(),
  reason: z.string().nullable(),
  /** The run the decision started on the gateway (it carries the call out, or tells the model it was refused), once the gateway took it. */
  resume: z.object({ runId: z.string().nullable(), at: z.string().nullable(), error: z.string().nullable() }),
});
export type ApprovalView = z.infer<typeof ApprovalView>;

/** `GET /api/approvals?status=`: pending ones oldest first, decided ones newest first. */
export const ApprovalListStatus = z.enum(["pending", "decided", "all"], { message: "must be 'pending', 'decided' or 'all'" });
export type ApprovalListStatus = z.infer<typeof ApprovalListStatus>;

export const ApprovalList = z.object({
  approvals: z.array(ApprovalView),
  /** How many the caller may decide are pending (whatever the filter). */
  pending: z.number().int().nonnegative(),
});
export type ApprovalList = z.infer<typeof ApprovalList>;

export const ApprovalCount = z.object({ pending: z.number().int().nonnegative() });
export type ApprovalCount = z.infer<typeof ApprovalCount>;

/** `POST /api/approvals/{id}/approve` and `/deny`: an optional reason (the model reads it with a denial). */
export const ApprovalDecisionBody = z.object({ reason: z.string().trim().max(2_000).optional() });
export type ApprovalDecisionBody = z.infer<typeof ApprovalDecisionBody>;

export const ApprovalEnvelope = z.object({ approval: ApprovalView });
export type ApprovalEnvelope = z.infer<typeof ApprovalEnvelope>;

/**
 * One message of `GET /api/approvals/events` (SSE, event name `approvals`): sent at once and
 * whenever approvals the caller may see change, with the pending count and what changed.
 */
export const ApprovalsChanged = z.object({ pending: z.number().int().nonnegative(), changed: z.array(ApprovalView) });
export type ApprovalsChanged = z.infer<typeof ApprovalsChanged>;
export const APPROVALS_SSE_EVENT = "approvals";

/** The workspace tools every agent has (the gateway's); their modes are the agent's tool modes. */
export const WORKSPACE_TOOLS = [
  { name: "read_file", description: "Read a file of its workspace" },
  { name: "write_file", description: "Write a file of its workspace" },
  { name: "list_files", description: "List its workspace's files" },
  { name: "search_files", description: "Search its workspace's files" },
  { name: "append_memory", description: "Add a line to MEMORY.md" },
] as const;
export const WorkspaceToolName = z.enum(WORKSPACE_TOOLS.map((tool) => tool.name) as [(typeof WORKSPACE_TOOLS)[number]["name"], ...(typeof WORKSPACE_TOOLS)[number]["name"][]]);
export type WorkspaceToolName = z.infer<typeof WorkspaceToolName>;

/** One tool's mode for an agent, as `GET /api/agents/{slug}/tool-modes` shows it. */
export const AgentToolModeView = z.object({
  name: z.string(),
  /** `workspace`: always offered; `web`: offered when the gateway has it (`available`). */
  kind: z.enum(["workspace", "web"]),
  description: z.string(),
  available: z.boolean(),
  mode: AgentToolMode,
});
export type AgentToolModeView = z.infer<typeof AgentToolModeView>;

export const AgentToolModes = z.object({ agent: z.string(), tools: z.array(AgentToolModeView) });
export type AgentToolModes = z.infer<typeof AgentToolModes>;

/** `PUT /api/agents/{slug}/tool-modes`: the modes to set, by tool name (tools not named keep theirs). */
export const AgentToolModesUpdate = z.object({ modes: z.record(z.string().min(1).max(200), AgentToolMode) });
export type AgentToolModesUpdate = z.infer<typeof AgentToolModesUpdate>;
