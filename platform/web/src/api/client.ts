import {
  ModelCatalogue,
  Agent,
  ModelInfo,
  ModelKeyResponse,
  ModelKeysResponse,
  OperatorLimitsView,
  OrganisationLimitsView,
  OwnedSessionHistory,
  OwnedSessionSummary,
  RunInfo,
  SessionSummary,
  describeZodError,
  AgentToolsView,
  McpOAuthStart,
  McpServerEnvelope,
  McpServerList,
  type AgentToolGrantInput,
  type AgentInput,
  type McpServerInput,
  type McpServerUpdate,
  type AgentUpdate,
  type ModelKeyInput,
  type ModelKeyProvider,
  type OrganisationLimitsPatch,
  type SendMessageInput,
  type SessionOwnerFilter,
  SearchResponse,
} from "@workforce/protocol";
import { z } from "zod";
import { ApiError, errorFromResponse, networkError } from "./api-error";
import { approvalsApi } from "./approvals-api";
import { composioApi } from "./composio-api";
import { governanceApi } from "./governance-api";
import { schedulesApi } from "./schedules-api";
import { heartbeatApi } from "./heartbeat-api";
import { webhooksApi } from "./webhooks-api";
import {
  ApiKey,
  CreatedApiKey,
  CreatedInvitation,
  Invitation,
  InvitationPreview,
  Member,
  OperatorTenantPage,
  Tenant,
  UsageReport,
  type Role,
  type Scope,
} from "./platform-schemas";

export const Me = z.object({
  user: z.object({ id: z.string(), email: z.string().nullable().optional(), emailConfirmed: z.boolean(), operator: z.boolean() }),
  tenants: z.array(Tenant),
  /** Whether the sign-up policy lets this user create another organisation (else: ask an owner for an invitation). */
  canCreateOrganisation: z.boolean(),
  model: ModelInfo,
});
export type Me = z.infer<typeof Me>;

export interface ApiClientOptions {
  /** Base of the API, e.g. `/api`. */
  baseUrl: string;
  /** The current access token, or undefined when signed out. */
  accessToken: () => Promise<string | undefined>;
  /** The selected organisation, sent as `X-Tenant-ID` on calls about an organisation's data. */
  tenantId: () => string | undefined;
  /**
   * Told when a call about the selected organisation answers 403 `forbidden`, before the error is
   * thrown: the membership may be gone (left, removed, organisation deleted), so the app re-reads
   * the user's organisations. Awaited, so the screen has moved on by the time the caller sees it.
   */
  onTenantForbidden?: (tenantId: string | undefined) => Promise<void>;
  /**
   * Told when a call about an organisation answers 403 `tenant_suspended`: the operator suspended
   * it (perhaps while the app was open). The message carries the operator's reason.
   */
  onTenantSuspended?: (tenantId: string, message: string) => void;
  /**
   * Told when the platform refuses the access token as `invalid_token`: its session ended (signed
   * out everywhere, a password change elsewhere) or its signing key was revoked. Refreshing cannot
   * help, so the app signs out. (An expired token is `token_expired`, which supabase-js refreshes.)
   */
  onSessionEnded?: () => void;
  /** Told when a call answers `gateway_unavailable`: the app shows the banner and checks back until agents answer again. */
  onGatewayUnavailable?: (error: ApiError) => void;
  fetch?: typeof fetch;
}

/**
 * Account-level calls (who am I, my organisations, creating one, accepting an invitation) are
 * about the user, not the selected organisation, so they never send `X-Tenant-ID`: a stale id
 * from an organisation the user has left must not lock them out of their own account.
 */
type CallScope = "account" | "tenant";

export type ApiClient = ReturnType<typeof createApiClient>;

/** Typed access to the platform API (docs/platform-api.md). Every answer is validated against the shared schemas. */
export function createApiClient(options: ApiClientOptions) {
  const fetchImpl = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));

  type SendInit = RequestInit & { extraHeaders?: Record<string, string>; scope?: CallScope };

  /** Sends a request and returns the raw response when it is 2xx; otherwise throws ApiError. */
  async function send(path: string, init: SendInit = {}): Promise<Response> {
    const { extraHeaders, scope = "tenant", ...rest } = init;
    const headers = new Headers(extraHeaders);
    const token = await options.accessToken();
    if (token) headers.set("Authorization", `Bearer ${token}`);
    const tenantId = scope === "tenant" ? options.tenantId() : undefined;
    if (tenantId) headers.set("X-Tenant-ID", tenantId);
    let response: Response;
    try {
      response = await fetchImpl(`${options.baseUrl}${path}`, { ...rest, headers });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw networkError(error);
    }
    if (!response.ok) {
      const error = await errorFromResponse(response);
      if (scope === "tenant" && error.status === 403 && error.code === "forbidden") await options.onTenantForbidden?.(tenantId);
      if (scope === "tenant" && tenantId && error.code === "tenant_suspended") options.onTenantSuspended?.(tenantId, error.message);
      if (token && error.status === 401 && error.code === "invalid_token") options.onSessionEnded?.();
      if (error.code === "gateway_unavailable") options.onGatewayUnavailable?.(error);
      throw error;
    }
    return response;
  }

  async function json<T>(schema: z.ZodType<T>, path: string, init: RequestInit & { scope?: CallScope } = {}): Promise<T> {
    const response = await send(path, {
      ...init,
      extraHeaders: init.body === undefined ? { Accept: "application/json" } : { Accept: "application/json", "Content-Type": "application/json" },
    });
    const body: unknown = await response.json().catch(() => undefined);
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ApiError("invalid_response", `Unexpected answer from ${path}: ${describeZodError(parsed.error)}`, response.status);
    }
    return parsed.data;
  }

  const body = (value: unknown): RequestInit => ({ body: JSON.stringify(value) });
  const agentPath = (slug: string) => `/agents/${encodeURIComponent(slug)}`;
  const sessionPath = (slug: string, key: string) => `${agentPath(slug)}/sessions/${encodeURIComponent(key)}`;

  return {
    me: () => json(Me, "/me", { scope: "account" }),

    // Organisations, team and keys: the platform's own data, so they work while the gateway is down.
    listTenants: async () => (await json(z.object({ tenants: z.array(Tenant) }), "/tenants", { scope: "account" })).tenants,
    createTenant: async (name: string) =>
      (await json(z.object({ tenant: Tenant }), "/tenants", { method: "POST", scope: "account", ...body({ name }) })).tenant,
    renameTenant: async (name: string) => (await json(z.object({ tenant: Tenant }), "/tenant", { method: "PATCH", ...body({ name }) })).tenant,

    listMembers: async () => (await json(z.object({ members: z.array(Member) }), "/members")).members,
    changeRole: async (userId: string, role: Role) =>
      (await json(z.object({ member: Member }), `/members/${encodeURIComponent(userId)}`, { method: "PATCH", ...body({ role }) })).member,
    removeMember: async (userId: string) => {
      await send(`/members/${encodeURIComponent(userId)}`, { method: "DELETE" });
    },

    listInvitations: async () => (await json(z.object({ invitations: z.array(Invitation) }), "/invitations")).invitations,
    /** `replace` confirms changing the role of a pending invitation to the same address (else 409 `invitation_pending`). */
    invite: (email: string, role: Role, replace = false) =>
      json(CreatedInvitation, "/invitations", { method: "POST", ...body(replace ? { email, role, replace } : { email, role }) }),
    revokeInvitation: async (id: string) => {
      await send(`/invitations/${encodeURIComponent(id)}`, { method: "DELETE" });
    },
    acceptInvitation: async (token: string) =>
      (await json(z.object({ tenant: Tenant }), "/invitations/accept", { method: "POST", scope: "account", ...body({ token }) })).tenant,
    /** What an invitation link is for; needs no sign-in. 404 when it expired, was revoked or used. */
    previewInvitation: async (token: string) =>
      (await json(z.object({ invitation: InvitationPreview }), "/invitations/preview", { method: "POST", scope: "account", ...body({ token }) })).invitation,
    /** The selected organisation as one JSON file (owners and admins; also while it is suspended). */
    exportTenant: async () => {
      const response = await send("/tenant/export");
      return { blob: await response.blob(), filename: filenameOf(response.headers.get("content-disposition")) };
    },
    /** The installation's organisations, a page at a time (the operator only). */
    operatorTenants: (cursor?: string) =>
      json(OperatorTenantPage, `/operator/tenants?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { scope: "account" }),
    /** Suspends an organisation (its members' requests are refused with the reason) or lifts it (the operator only). */
    setSuspension: async (tenantId: string, suspended: boolean, reason?: string) =>
      (
        await json(
          z.object({ tenant: z.object({ id: z.string(), name: z.string(), suspended: z.object({ at: z.string(), reason: z.string().nullable() }).nullable() }) }),
          `/operator/tenants/${encodeURIComponent(tenantId)}`,
          { method: "PATCH", scope: "account", ...body(reason === undefined ? { suspended } : { suspended, reason }) },
        )
      ).tenant,
    /** An organisation's limits: in force, the overrides, the defaults, and whether the gateways hold them (the operator only). */
    operatorLimits: async (tenantId: string) =>
      (await json(z.object({ limits: OperatorLimitsView }), `/operator/tenants/${encodeURIComponent(tenantId)}/limits`, { scope: "account" })).limits,
    /** Sets some of an organisation's limits; null puts one back to the installation's default (the operator only). */
    setOperatorLimits: async (tenantId: string, patch: OrganisationLimitsPatch) =>
      (await json(z.object({ limits: OperatorLimitsView }), `/operator/tenants/${encodeURIComponent(tenantId)}/limits`, { method: "PATCH", scope: "account", ...body(patch) }))
        .limits,

    listKeys: async () => (await json(z.object({ keys: z.array(ApiKey) }), "/keys")).keys,
    createKey: (name: string, scopes: Scope[]) => json(CreatedApiKey, "/keys", { method: "POST", ...body({ name, scopes }) }),
    revokeKey: async (id: string) => {
      await send(`/keys/${encodeURIComponent(id)}`, { method: "DELETE" });
    },

    usage: (days: number) => json(UsageReport, `/usage?days=${days}`),

    listModelKeys: () => json(ModelKeysResponse, "/integrations/model-keys"),
    setModelKey: async (provider: ModelKeyProvider, input: ModelKeyInput) =>
      (await json(ModelKeyResponse, `/integrations/model-keys/${encodeURIComponent(provider)}`, { method: "PUT", ...body(input) })).key,
    deleteModelKey: async (provider: ModelKeyProvider) => {
      await send(`/integrations/model-keys/${encodeURIComponent(provider)}`, { method: "DELETE" });
    },
    /** The selected organisation's limits in force (set by the operator; read-only). */
    limits: async () => (await json(z.object({ limits: OrganisationLimitsView }), "/limits")).limits,

    /** The models an agent may name (`GET /api/models`): what the agent form's picker offers. */
    listModels: async () => await json(ModelCatalogue, "/models"),
    listAgents: async () => (await json(z.object({ agents: z.array(Agent) }), "/agents")).agents,
    getAgent: async (slug: string) => (await json(z.object({ agent: Agent }), agentPath(slug))).agent,
    createAgent: async (input: AgentInput) =>
      (await json(z.object({ agent: Agent }), "/agents", { method: "POST", body: JSON.stringify(input) })).agent,
    updateAgent: async (slug: string, update: AgentUpdate) =>
      (await json(z.object({ agent: Agent }), agentPath(slug), { method: "PATCH", body: JSON.stringify(update) })).agent,
    deleteAgent: async (slug: string) => {
      await send(agentPath(slug), { method: "DELETE" });
    },

    /** The caller's own sessions, or (owners and admins) everyone's, each with its owner. */
    listSessions: async (slug: string, owner: SessionOwnerFilter = "mine") =>
      (await json(z.object({ sessions: z.array(OwnedSessionSummary) }), `${agentPath(slug)}/sessions${owner === "all" ? "?owner=all" : ""}`)).sessions,
    getSession: (slug: string, key: string) => json(OwnedSessionHistory, sessionPath(slug, key)),
    /** Full-text search over the chats' titles and messages: one's own, or everyone's (owners and admins). */
    searchChats: async (query: string, owner: SessionOwnerFilter = "mine") =>
      (await json(SearchResponse, `/search?${new URLSearchParams({ q: query, ...(owner === "all" ? { owner } : {}) }).toString()}`)).results,
    renameSession: async (slug: string, key: string, title: string) =>
      (await json(z.object({ session: SessionSummary }), sessionPath(slug, key), { method: "PATCH", body: JSON.stringify({ title }) }))
        .session,
    deleteSession: async (slug: string, key: string) => {
      await send(sessionPath(slug, key), { method: "DELETE" });
    },
    /** The platform's export of a session as a file (`json` or `markdown`) and the name it suggests. */
    exportSession: async (slug: string, key: string, format: "json" | "markdown") => {
      const response = await send(`${sessionPath(slug, key)}/export?format=${format}`);
      return { blob: await response.blob(), filename: filenameOf(response.headers.get("content-disposition")) };
    },

    /** A file sent with one of the session's messages (decision 042). */
    attachment: async (slug: string, key: string, id: string) => (await send(`${sessionPath(slug, key)}/attachments/${encodeURIComponent(id)}`)).blob(),

    abortRun: (runId: string) => json(RunInfo, `/runs/${encodeURIComponent(runId)}/abort`, { method: "POST" }),

    /** Starts a run; the answer's body is the SSE stream of its events. */
    sendMessage: (slug: string, input: SendMessageInput, signal: AbortSignal) =>
      send(`${agentPath(slug)}/messages`, {
        method: "POST",
        body: JSON.stringify(input),
        signal,
        extraHeaders: { Accept: "text/event-stream", "Content-Type": "application/json" },
      }),

    /** The rest of a run's events after `lastSeq`, as SSE. */
    runEvents: (runId: string, lastSeq: number, signal: AbortSignal) =>
      send(`/runs/${encodeURIComponent(runId)}/events?after=${lastSeq}`, {
        signal,
        extraHeaders: { Accept: "text/event-stream", "Last-Event-ID": String(lastSeq) },
      }),

    /** Apps connected through Composio, and which of their tools each agent may use. */
    composio: composioApi({ json, send }),
    /** An agent's schedules, their firings, and its recent autonomous runs (issue 15). */
    schedules: schedulesApi({ json, send }),
    /** Agents' heartbeats (issue 15). */
    heartbeat: heartbeatApi({ json }),
    /** Tool calls waiting for a decision, and each agent's tool modes (issue 15). */
    approvals: approvalsApi({ json, send }),
    /** Budget, audit log, export with progress and erasure of the organisation (issue 16). */
    governance: governanceApi({ json, send }),
    /** Outbound webhooks: endpoints, their signing secrets (shown once) and delivery log. */
    webhooks: webhooksApi({ json, send }),
    // MCP servers and the tools each agent may use (issue 14). Header values go in, never come back.
    listMcpServers: async () => (await json(McpServerList, "/integrations/mcp/servers")).servers,
    createMcpServer: async (input: z.input<typeof McpServerInput>) =>
      (await json(McpServerEnvelope, "/integrations/mcp/servers", { method: "POST", ...body(input) })).server,
    updateMcpServer: async (id: string, update: McpServerUpdate) =>
      (await json(McpServerEnvelope, mcpServerPath(id), { method: "PATCH", ...body(update) })).server,
    deleteMcpServer: async (id: string) => {
      await send(mcpServerPath(id), { method: "DELETE" });
    },
    /** Lists the server's tools again (through the gateway); its status says how that went. */
    refreshMcpServer: async (id: string) => (await json(McpServerEnvelope, `${mcpServerPath(id)}/refresh`, { method: "POST" })).server,
    /** Where to send the browser to authorise an OAuth server; it comes back to /integrations. */
    startMcpOAuth: async (id: string) => (await json(McpOAuthStart, `${mcpServerPath(id)}/oauth/start`, { method: "POST" })).authorizationUrl,
    agentTools: (slug: string) => json(AgentToolsView, `${agentPath(slug)}/tools`),
    setAgentTools: (slug: string, grants: AgentToolGrantInput[]) => json(AgentToolsView, `${agentPath(slug)}/tools`, { method: "PUT", ...body({ grants }) }),
  };
}

const mcpServerPath = (id: string) => `/integrations/mcp/servers/${encodeURIComponent(id)}`;

/** `attachment; filename="ada-s1.md"` → `ada-s1.md`. */
function filenameOf(disposition: string | null): string | undefined {
  const match = /filename="?([^";]+)"?/i.exec(disposition ?? "");
  return match?.[1];
}
