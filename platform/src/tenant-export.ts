import type { Agent, ScheduleFields, ScheduleFiring, SessionHistory, WebhookDeliveryView, WebhookEndpointView } from "@workforce/protocol";
import { firingView, scheduleFields } from "./jobs/schedules/schedule-store";
import { readBudget, type BudgetView } from "./budgets";
import type { Database } from "./db/schema";
import { withTenant } from "./db/scopes";
import type { GatewayClient } from "./gateway-client";
import { toDeliveryView, toEndpointView } from "./webhooks/webhook-store";

/** Everything the platform and the gateway hold for one tenant, as one JSON document. */
export interface TenantExport {
  format: "workforce-tenant-export";
  version: 1;
  exportedAt: string;
  tenant: { id: string; name: string; createdAt: string };
  members: { userId: string; email: string; role: string; joinedAt: string }[];
  invitations: { id: string; email: string; role: string; invitedBy: string | null; createdAt: string; expiresAt: string; acceptedAt: string | null; revokedAt: string | null }[];
  apiKeys: { id: string; name: string; prefix: string; scopes: string[]; createdBy: string | null; createdAt: string; lastUsedAt: string | null; revokedAt: string | null }[];
  budget: BudgetView;
  /** `keySource`: whose model key the run used (null: not recorded, before issue 14 the operator's). */
  usageEvents: { runId: string; agent: string; status: string; inputTokens: number; outputTokens: number; userId: string | null; apiKeyId: string | null; createdAt: string; keySource: "platform" | "organisation" | null }[];
  auditLog: { id: string; action: string; target: string; actorUserId: string | null; actorApiKeyId: string | null; details: Record<string, unknown>; createdAt: string }[];
  /** Who started each session (decision 010); sessions without a row are nobody's. */
  sessionOwners: { agent: string; sessionKey: string; userId: string | null; apiKeyId: string | null; createdAt: string }[];
  /** The organisation's integration secrets by name and kind only: never a value, hint or ciphertext (decision 029). */
  secrets: { name: string; kind: string }[];
  /** Apps connected through Composio (Composio keeps their tokens; only the account ids are ours) and each agent's choice of them. */
  composio: {
    connections: { toolkit: string; connectedAccountId: string; status: string; createdBy: string | null; createdAt: string }[];
    agentTools: { agent: string; toolkit: string; mode: string; tools: string[] | null }[];
  };
  /** MCP servers: where they are and how they authenticate; header values and tokens are among `secrets`, by name only. */
  mcpServers: { id: string; name: string; namespace: string; url: string; transport: string; auth: string; status: string; tools: unknown; createdAt: string }[];
  /** Which web and MCP tools each agent may use, and how. */
  agentToolGrants: { agent: string; source: string; serverId: string | null; tool: string; mode: string }[];
  /** The organisation's own model keys without the key (a secret above, by name): provider, base URL, who set it (decision 031). */
  modelKeys: { provider: string; baseUrl: string | null; updatedAt: string; updatedBy: string | null }[];
  /** What happened in the organisation (run ends, approvals, schedule firings, alerts), as its webhooks were told (issue 15). */
  events: { id: string; type: string; occurredAt: string; data: Record<string, unknown> }[];
  /** Tool calls that waited for a decision (issue 15): the call, its arguments as stored, and how and by whom it was decided. */
  approvals: {
    id: string;
    agent: string;
    sessionKey: string;
    runId: string;
    tool: string;
    input: unknown;
    inputTruncated: boolean;
    status: string;
    requestedAt: string;
    expiresAt: string;
    decidedAt: string | null;
    decidedBy: string | null;
    decidedByApiKey: string | null;
    reason: string | null;
    resumeRunId: string | null;
  }[];
  /** Each agent's workspace tool modes (allow / ask / deny); web, MCP and Composio tools have theirs on their grants above. */
  toolModes: { agent: string; tool: string; mode: string; updatedBy: string | null; updatedAt: string }[];
  /** Work the platform holds for the organisation (webhook deliveries, firings): queued, running, or finished and not yet pruned. */
  jobs: { id: string; kind: string; status: string; runAt: string; attempts: number; lastError: string | null; payload: Record<string, unknown> }[];
  /** Each agent's schedules (issue 15), and their firings with run ids and outcomes. */
  schedules: (ScheduleFields & { id: string; agent: string; nextFireAt: string | null; createdBy: string | null; createdAt: string })[];
  scheduleFirings: ScheduleFiring[];
  /** Each agent's heartbeat settings and what came of it (issue 15); HEARTBEAT.md itself is a workspace file on the gateway. */
  heartbeats: {
    agent: string;
    enabled: boolean;
    everyMinutes: number;
    activeHours: { start: string; end: string } | null;
    timeZone: string;
    sessionKey: string;
    enabledBy: string | null;
    nextDueAt: string | null;
    counts: { ok: number; alert: number; skipped: number; failed: number; refused: number };
    lastOutcome: string | null;
    lastAt: string | null;
    lastRunId: string | null;
    lastAlert: { text: string; at: string | null; runId: string | null } | null;
  }[];
  /** Outbound webhooks (issue 15): endpoints as the API shows them (the signing secret only as its hint) and their delivery log. */
  webhooks: { endpoints: WebhookEndpointView[]; deliveries: WebhookDeliveryView[] };
  /** What search reads of each chat (issue 16): its title and how far it is indexed; the text itself is in the sessions below. */
  searchIndex: { agent: string; sessionKey: string; title: string; messageCount: number; sessionUpdatedAt: string; indexedAt: string }[];
  /** From the gateway: each agent with the full history of each of its sessions. */
  agents: { agent: Agent; sessions: SessionHistory[] }[];
}

/** jsonb as Postgres (parsed) or PGlite (parsed, or text in some paths) returns it. */
const jsonObject = (value: Record<string, unknown> | string): Record<string, unknown> => (typeof value === "string" ? (JSON.parse(value) as Record<string, unknown>) : value);

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** Runs `fn` over `items` with at most `limit` at a time, keeping their order. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Reads the tenant's rows (inside its row-level-security transaction; secrets such as key and
 * token hashes are left out) and its agents and sessions through the gateway. The document is
 * built in memory, which suits organisations of ordinary size.
 */
export async function exportTenant(deps: { db: Database; gateway: GatewayClient; now: () => Date }, tenantId: string): Promise<TenantExport> {
  const rows = await withTenant(deps.db, tenantId, async (trx) => ({
    tenant: await trx.selectFrom("tenants").select(["id", "name", "created_at"]).where("id", "=", tenantId).executeTakeFirstOrThrow(),
    members: await trx
      .selectFrom("memberships")
      .innerJoin("users", "users.id", "memberships.user_id")
      .select(["users.id as userId", "users.email as email", "memberships.role as role", "memberships.created_at as joinedAt"])
      .where("memberships.tenant_id", "=", tenantId)
      .orderBy("memberships.created_at")
      .execute(),
    invitations: await trx.selectFrom("invitations").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute(),
    apiKeys: await trx.selectFrom("api_keys").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute(),
    budget: await readBudget(trx, tenantId, deps.now()),
    usage: await trx.selectFrom("usage_events").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").execute(),
    audit: await trx.selectFrom("audit_log").selectAll().where("tenant_id", "=", tenantId).orderBy("seq").execute(),
    sessionOwners: await trx.selectFrom("session_owners").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("session_key").execute(),
    mcpServers: await trx.selectFrom("mcp_servers").select(["id", "name", "namespace", "url", "transport", "auth", "status", "tools", "created_at"]).where("tenant_id", "=", tenantId).orderBy("created_at").execute(),
    grants: await trx.selectFrom("agent_tool_grants").select(["agent_slug", "source", "server_id", "tool", "mode"]).where("tenant_id", "=", tenantId).orderBy("agent_slug").orderBy("tool").execute(),
    modelKeys: await trx.selectFrom("model_keys").select(["provider", "base_url", "updated_at", "updated_by"]).where("tenant_id", "=", tenantId).orderBy("provider").execute(),
    secrets: await trx.selectFrom("tenant_secrets").select(["name", "kind"]).where("tenant_id", "=", tenantId).orderBy("name").execute(),
    composioConnections: await trx
      .selectFrom("composio_connections")
      .select(["toolkit", "connected_account_id", "status", "created_by", "created_at"])
      .where("tenant_id", "=", tenantId)
      .orderBy("toolkit")
      .execute(),
    composioAgentTools: await trx.selectFrom("composio_agent_tools").select(["agent_slug", "toolkit", "mode", "tools"]).where("tenant_id", "=", tenantId).orderBy("agent_slug").orderBy("toolkit").execute(),
    events: await trx.selectFrom("tenant_events").select(["id", "type", "occurred_at", "data"]).where("tenant_id", "=", tenantId).orderBy("seq").execute(),
    jobs: await trx.selectFrom("jobs").select(["id", "kind", "status", "run_at", "attempts", "last_error", "payload"]).where("tenant_id", "=", tenantId).orderBy("created_at").execute(),
    schedules: await trx.selectFrom("schedules").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("id").execute(),
    firings: await trx.selectFrom("schedule_firings").selectAll().where("tenant_id", "=", tenantId).orderBy("scheduled_for").orderBy("id").execute(),
    heartbeats: await trx.selectFrom("agent_heartbeats").selectAll().where("tenant_id", "=", tenantId).orderBy("agent_slug").execute(),
    approvals: await trx.selectFrom("approvals").selectAll().where("tenant_id", "=", tenantId).orderBy("requested_at").orderBy("id").execute(),
    toolModes: await trx.selectFrom("agent_tool_modes").selectAll().where("tenant_id", "=", tenantId).orderBy("agent_slug").orderBy("tool").execute(),
    webhookEndpoints: await trx.selectFrom("webhook_endpoints").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("id").execute(),
    webhookDeliveries: await trx.selectFrom("webhook_deliveries").selectAll().where("tenant_id", "=", tenantId).orderBy("created_at").orderBy("id").execute(),
    searchIndex: await trx
      .selectFrom("session_search")
      .select(["agent_slug", "session_key", "title", "message_count", "session_updated_at", "indexed_at"])
      .where("tenant_id", "=", tenantId)
      .orderBy("agent_slug")
      .orderBy("session_key")
      .execute(),
  }));
  const agents = await deps.gateway.listAgents(tenantId);
  const withSessions = await mapLimited(agents, 4, async (agent) => {
    const sessions = await deps.gateway.listSessions(tenantId, agent.slug);
    return { agent, sessions: await mapLimited(sessions, 4, (session) => deps.gateway.getSession(tenantId, agent.slug, session.key)) };
  });
  return {
    format: "workforce-tenant-export",
    version: 1,
    exportedAt: deps.now().toISOString(),
    tenant: { id: rows.tenant.id, name: rows.tenant.name, createdAt: rows.tenant.created_at.toISOString() },
    members: rows.members.map((member) => ({ ...member, joinedAt: member.joinedAt.toISOString() })),
    invitations: rows.invitations.map((row) => ({
      id: row.id,
      email: row.email,
      role: row.role,
      invitedBy: row.invited_by,
      createdAt: row.created_at.toISOString(),
      expiresAt: new Date(row.expires_at).toISOString(),
      acceptedAt: iso(row.accepted_at),
      revokedAt: iso(row.revoked_at),
    })),
    apiKeys: rows.apiKeys.map((row) => ({
      id: row.id,
      name: row.name,
      prefix: row.prefix,
      scopes: row.scopes,
      createdBy: row.created_by,
      createdAt: row.created_at.toISOString(),
      lastUsedAt: iso(row.last_used_at),
      revokedAt: iso(row.revoked_at),
    })),
    budget: rows.budget,
    usageEvents: rows.usage.map((row) => ({
      runId: row.run_id,
      agent: row.agent_slug,
      status: row.status,
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      userId: row.user_id,
      apiKeyId: row.api_key_id,
      createdAt: row.created_at.toISOString(),
      keySource: row.key_source,
    })),
    auditLog: rows.audit.map((row) => ({
      id: row.id,
      action: row.action,
      target: row.target,
      actorUserId: row.actor_user_id,
      actorApiKeyId: row.actor_api_key_id,
      details: row.details,
      createdAt: row.created_at.toISOString(),
    })),
    sessionOwners: rows.sessionOwners.map((row) => ({
      agent: row.agent_slug,
      sessionKey: row.session_key,
      userId: row.user_id,
      apiKeyId: row.api_key_id,
      createdAt: row.created_at.toISOString(),
    })),
    secrets: rows.secrets,
    composio: {
      connections: rows.composioConnections.map((row) => ({
        toolkit: row.toolkit,
        connectedAccountId: row.connected_account_id,
        status: row.status,
        createdBy: row.created_by,
        createdAt: row.created_at.toISOString(),
      })),
      agentTools: rows.composioAgentTools.map((row) => ({ agent: row.agent_slug, toolkit: row.toolkit, mode: row.mode, tools: row.tools })),
    },
    mcpServers: rows.mcpServers.map((row) => ({ id: row.id, name: row.name, namespace: row.namespace, url: row.url, transport: row.transport, auth: row.auth, status: row.status, tools: row.tools, createdAt: row.created_at.toISOString() })),
    agentToolGrants: rows.grants.map((row) => ({ agent: row.agent_slug, source: row.source, serverId: row.server_id, tool: row.tool, mode: row.mode })),
    modelKeys: rows.modelKeys.map((row) => ({ provider: row.provider, baseUrl: row.base_url, updatedAt: row.updated_at.toISOString(), updatedBy: row.updated_by })),
    searchIndex: rows.searchIndex.map((row) => ({
      agent: row.agent_slug,
      sessionKey: row.session_key,
      title: row.title,
      messageCount: row.message_count,
      sessionUpdatedAt: new Date(row.session_updated_at).toISOString(),
      indexedAt: new Date(row.indexed_at).toISOString(),
    })),
    events: rows.events.map((row) => ({ id: row.id, type: row.type, occurredAt: new Date(row.occurred_at).toISOString(), data: jsonObject(row.data) })),
    approvals: rows.approvals.map((row) => ({
      id: row.id,
      agent: row.agent_slug,
      sessionKey: row.session_key,
      runId: row.run_id,
      tool: row.tool,
      input: row.input,
      inputTruncated: row.input_truncated,
      status: row.status,
      requestedAt: new Date(row.requested_at).toISOString(),
      expiresAt: new Date(row.expires_at).toISOString(),
      decidedAt: iso(row.decided_at),
      decidedBy: row.decided_by,
      decidedByApiKey: row.decided_by_api_key,
      reason: row.reason,
      resumeRunId: row.resume_run_id,
    })),
    toolModes: rows.toolModes.map((row) => ({ agent: row.agent_slug, tool: row.tool, mode: row.mode, updatedBy: row.updated_by, updatedAt: new Date(row.updated_at).toISOString() })),
    jobs: rows.jobs.map((row) => ({ id: row.id, kind: row.kind, status: row.status, runAt: new Date(row.run_at).toISOString(), attempts: row.attempts, lastError: row.last_error, payload: jsonObject(row.payload) })),
    schedules: rows.schedules.map((row) => ({
      id: row.id,
      agent: row.agent_slug,
      ...scheduleFields(row),
      nextFireAt: iso(row.next_fire_at),
      createdBy: row.created_by,
      createdAt: new Date(row.created_at).toISOString(),
    })),
    scheduleFirings: rows.firings.map(firingView),
    heartbeats: rows.heartbeats.map((row) => ({
      agent: row.agent_slug,
      enabled: row.enabled,
      everyMinutes: row.every_minutes,
      activeHours: row.active_start && row.active_end ? { start: row.active_start, end: row.active_end } : null,
      timeZone: row.time_zone,
      sessionKey: row.session_key,
      enabledBy: row.enabled_by,
      nextDueAt: iso(row.next_due_at),
      counts: { ok: row.ok_count, alert: row.alert_count, skipped: row.skipped_count, failed: row.failed_count, refused: row.refused_count },
      lastOutcome: row.last_outcome,
      lastAt: iso(row.last_at),
      lastRunId: row.last_run_id,
      lastAlert: row.last_alert_text === null ? null : { text: row.last_alert_text, at: iso(row.last_alert_at), runId: row.last_alert_run_id },
    })),
    webhooks: { endpoints: rows.webhookEndpoints.map(toEndpointView), deliveries: rows.webhookDeliveries.map(toDeliveryView) },
    agents: withSessions,
  };
}
