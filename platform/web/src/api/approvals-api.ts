import { AgentToolModes, ApprovalCount, ApprovalEnvelope, ApprovalList, type AgentToolMode, type ApprovalListStatus } from "@workforce/protocol";
import type { ApiCalls } from "./composio-api";

/** The platform's tool approvals and tool modes (docs/platform-api.md, "Tool approvals"). */
export function approvalsApi({ json, send }: ApiCalls) {
  const decide = async (id: string, decision: "approve" | "deny", reason?: string) =>
    (await json(ApprovalEnvelope, `/approvals/${encodeURIComponent(id)}/${decision}`, { method: "POST", body: JSON.stringify(reason ? { reason } : {}) })).approval;
  return {
    /** What the caller may decide (their own sessions', or everyone's for owners and admins), with the pending count. */
    list: (status: ApprovalListStatus = "pending") => json(ApprovalList, `/approvals?status=${status}`),
    count: async () => (await json(ApprovalCount, "/approvals/count")).pending,
    get: async (id: string) => (await json(ApprovalEnvelope, `/approvals/${encodeURIComponent(id)}`)).approval,
    approve: (id: string, reason?: string) => decide(id, "approve", reason),
    deny: (id: string, reason?: string) => decide(id, "deny", reason),
    /** The live updates: an SSE stream of `approvals` messages (pending count, changed approvals). */
    events: (signal: AbortSignal) => send("/approvals/events", { signal, extraHeaders: { Accept: "text/event-stream" } }),
    toolModes: (slug: string) => json(AgentToolModes, `/agents/${encodeURIComponent(slug)}/tool-modes`),
    setToolModes: (slug: string, modes: Record<string, AgentToolMode>) =>
      json(AgentToolModes, `/agents/${encodeURIComponent(slug)}/tool-modes`, { method: "PUT", body: JSON.stringify({ modes }) }),
  };
}
