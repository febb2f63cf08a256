/**
 * The audit log's actions by noun (docs/platform-api.md, "Audit log"), for the filter and for
 * readable labels. An action the platform adds later still shows, by its code.
 */
export const AUDIT_NOUNS: readonly { noun: string; label: string; actions: readonly string[] }[] = [
  { noun: "agent", label: "Agents", actions: ["agent.create", "agent.update", "agent.delete"] },
  { noun: "session", label: "Chats", actions: ["session.rename", "session.delete", "session.read", "session.list_all"] },
  { noun: "member", label: "Members", actions: ["member.role_change", "member.remove", "member.leave"] },
  { noun: "invitation", label: "Invitations", actions: ["invitation.create", "invitation.revoke", "invitation.accept"] },
  { noun: "api_key", label: "API keys", actions: ["api_key.create", "api_key.revoke"] },
  { noun: "budget", label: "Budget", actions: ["budget.update"] },
  { noun: "tenant", label: "Organisation", actions: ["tenant.create", "tenant.rename", "tenant.export", "tenant.suspend", "tenant.unsuspend"] },
  { noun: "limits", label: "Plan limits", actions: ["limits.update"] },
  { noun: "auth", label: "Sign-in", actions: ["auth.sign_in_failed"] },
  { noun: "approval", label: "Approvals", actions: ["approval.approve", "approval.deny", "approval.expire"] },
  { noun: "schedule", label: "Schedules", actions: ["schedule.create", "schedule.update", "schedule.delete", "schedule.run"] },
  { noun: "heartbeat", label: "Heartbeats", actions: ["heartbeat.update", "heartbeat.run"] },
  { noun: "webhook", label: "Webhooks", actions: ["webhook.create", "webhook.update", "webhook.delete", "webhook.rotate_secret", "webhook.disable", "webhook.redeliver"] },
  { noun: "model_key", label: "Model keys", actions: ["model_key.set", "model_key.delete"] },
  { noun: "mcp_server", label: "MCP servers", actions: ["mcp_server.create", "mcp_server.update", "mcp_server.delete"] },
  { noun: "composio", label: "Composio", actions: ["composio.connect", "composio.disconnect", "composio.agent_tools"] },
  { noun: "secret", label: "Secrets", actions: ["secret.set", "secret.remove"] },
];

const VERBS: Record<string, string> = {
  create: "created",
  update: "changed",
  delete: "deleted",
  rename: "renamed",
  read: "read",
  list_all: "everyone's listed",
  role_change: "role changed",
  remove: "removed",
  leave: "left",
  revoke: "revoked",
  accept: "accepted",
  export: "exported",
  suspend: "suspended",
  unsuspend: "suspension lifted",
  sign_in_failed: "failed sign-in",
  approve: "approved",
  deny: "denied",
  expire: "expired",
  run: "run now",
  rotate_secret: "secret rotated",
  disable: "turned off",
  redeliver: "redelivered",
  set: "set",
  connect: "connected",
  disconnect: "disconnected",
  agent_tools: "agent tools changed",
};

const SINGULAR: Record<string, string> = {
  agent: "Agent",
  session: "Chat",
  member: "Member",
  invitation: "Invitation",
  api_key: "API key",
  budget: "Budget",
  tenant: "Organisation",
  limits: "Plan limits",
  auth: "Sign-in",
  approval: "Approval",
  schedule: "Schedule",
  heartbeat: "Heartbeat",
  webhook: "Webhook",
  model_key: "Model key",
  mcp_server: "MCP server",
  composio: "Composio",
  secret: "Secret",
};

/** `agent.create` → "Agent created"; an unknown action is shown as it is. */
export function actionLabel(action: string): string {
  const [noun = "", verb = ""] = action.split(".", 2);
  const subject = SINGULAR[noun];
  const done = VERBS[verb];
  if (!subject || !done) return action;
  if (noun === "auth" && verb === "sign_in_failed") return "Failed sign-in";
  return `${subject} ${done}`;
}
