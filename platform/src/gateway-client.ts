import {
  Agent,
  ATTACHMENT_HEADER,
  AttachmentRef,
  ApiErrorBody,
  AppError,
  EffectiveTenantPolicy,
  GatewayCapabilities,
  GatewayHealth,
  HeartbeatFile,
  HOOK_TOKEN_HEADER,
  McpToolsAnswer,
  McpToolsErrorBody,
  ModelCatalogue,
  RunInfo,
  SessionHistory,
  SessionSummary,
  TENANT_HEADER,
  UsageJournalPage,
  UsagePendingResponse,
  TenantDiskUsage,
  ACTOR_API_KEY_HEADER,
  ACTOR_USER_HEADER,
  type AgentInput,
  type ApprovalDecisionInput,
  type GatewayRunInput,
  type RunActor,
  type AgentUpdate,
  type McpServerConnectionInput,
  type TenantPolicy,
  SessionTitleResult,
  type SessionTitleRequest,
} from "@workforce/protocol";
import { REQUEST_ID_HEADER } from "@workforce/logging";
import { z } from "zod";
import type { RunStreams } from "./chat/resuming-run-stream";
import { createGatewayRunStreams } from "./gateway-run-streams";
import { isErrorCode } from "./http-errors";

export interface GatewayClientOptions {
  /** CLAWDBOT_GATEWAY_URL without a trailing slash. */
  baseUrl: string;
  /** CLAWDBOT_HOOK_TOKEN; sent as `Authorization: Bearer` when set. */
  hookToken: string | undefined;
  fetch?: typeof fetch;
  /** The X-Request-Id of the request being served, passed on so the gateway's log lines name it. */
  requestId?: () => string | undefined;
  /** The W3C traceparent of the span being served, when tracing: the gateway's spans become its children. */
  traceparent?: () => string | undefined;
  /** Told the run a request starts or follows (chat streams), so the request's log lines can name it. */
  onRun?: (runId: string) => void;
  /** Time limit for JSON calls. */
  timeoutMs?: number;
  /**
   * Time limit for the gateway to accept a run stream (chat.send / runs.subscribe answered). Once
   * accepted a stream has no overall limit (runs may be long); its connection is watched for silence instead.
   */
  streamStartTimeoutMs?: number;
}

const AgentEnvelope = z.object({ agent: Agent });
const AgentList = z.object({ agents: z.array(Agent) });
const SessionList = z.object({ sessions: z.array(SessionSummary) });
const SessionEnvelope = z.object({ session: SessionSummary });

function decodeHeader(value: string | null): string {
  try {
    return decodeURIComponent(value ?? "");
  } catch {
    return "";
  }
}

function parseJsonResult(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * The only code that speaks to the gateway. Every call names its tenant; gateway errors come
 * back as AppErrors with the gateway's code, and an unreachable gateway is 503 gateway_unavailable.
 */
export function createGatewayClient(options: GatewayClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const streamStartTimeoutMs = options.streamStartTimeoutMs ?? 30_000;

  function headers(tenantId: string | undefined, extra: Record<string, string> = {}): Record<string, string> {
    const requestId = options.requestId?.();
    const traceparent = options.traceparent?.();
    return {
      ...(options.hookToken ? { authorization: `Bearer ${options.hookToken}`, [HOOK_TOKEN_HEADER]: options.hookToken } : {}),
      ...(tenantId ? { [TENANT_HEADER]: tenantId } : {}),
      ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}),
      ...(traceparent ? { traceparent } : {}),
      ...extra,
    };
  }

  async function send(method: string, path: string, init: { tenantId?: string; body?: unknown; timeoutMs?: number; keepErrorResponse?: boolean; headers?: Record<string, string> } = {}): Promise<Response> {
    const limit = init.timeoutMs ?? timeoutMs;
    let response: Response;
    try {
      response = await doFetch(`${options.baseUrl}${path}`, {
        method,
        headers: headers(init.tenantId, {
          accept: "application/json",
          ...(init.body === undefined ? {} : { "content-type": "application/json" }),
          ...init.headers,
        }),
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: AbortSignal.timeout(limit),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      throw new AppError(
        "gateway_unavailable",
        timedOut
          ? `The agent gateway did not answer within ${limit} ms`
          : "The agent gateway is not reachable right now",
        { retryable: true, cause: error },
      );
    }
    if (!response.ok && !init.keepErrorResponse) throw await gatewayError(response);
    return response;
  }

  async function json<S extends z.ZodType>(schema: S, response: Response): Promise<z.infer<S>> {
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new AppError("gateway_error", "The agent gateway sent a response that is not JSON");
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw new AppError("gateway_error", "The agent gateway sent a response of an unexpected shape");
    return parsed.data;
  }

  const agentPath = (slug: string) => `/v1/agents/${encodeURIComponent(slug)}`;
  const sessionPath = (slug: string, key: string) => `${agentPath(slug)}/sessions/${encodeURIComponent(key)}`;
  const runPath = (runId: string) => `/v1/runs/${encodeURIComponent(runId)}`;

  return {
    baseUrl: options.baseUrl,
    /** Run streams (chat.send, runs.subscribe), every tenant's multiplexed over a few shared WebSockets (decision 049). */
    streams: createGatewayRunStreams({ baseUrl: options.baseUrl, hookToken: options.hookToken, streamStartTimeoutMs, requestId: options.requestId, traceparent: options.traceparent, onRun: options.onRun }),
    async health(timeout = 2_000): Promise<GatewayHealth> {
      let response: Response;
      try {
        // The details (data dir, instance id) are for the token holder; others get only the status.
        response = await doFetch(`${options.baseUrl}/`, { headers: headers(undefined, { accept: "application/json" }), signal: AbortSignal.timeout(timeout) });
      } catch (error) {
        throw new AppError("gateway_unavailable", "The agent gateway is not reachable right now", { cause: error });
      }
      if (!response.ok) throw await gatewayError(response);
      return json(GatewayHealth, response);
    },
    async listAgents(tenantId: string) {
      return (await json(AgentList, await send("GET", "/v1/agents", { tenantId }))).agents;
    },
    async createAgent(tenantId: string, input: AgentInput) {
      return (await json(AgentEnvelope, await send("POST", "/v1/agents", { tenantId, body: input }))).agent;
    },
    async getAgent(tenantId: string, slug: string) {
      return (await json(AgentEnvelope, await send("GET", agentPath(slug), { tenantId }))).agent;
    },
    async updateAgent(tenantId: string, slug: string, update: AgentUpdate) {
      return (await json(AgentEnvelope, await send("PATCH", agentPath(slug), { tenantId, body: update }))).agent;
    },
    async deleteAgent(tenantId: string, slug: string): Promise<void> {
      await (await send("DELETE", agentPath(slug), { tenantId })).body?.cancel();
    },
    /** The agent's HEARTBEAT.md (issue 15). */
    async heartbeatFile(tenantId: string, slug: string) {
      return json(HeartbeatFile, await send("GET", `${agentPath(slug)}/heartbeat`, { tenantId }));
    },
    async setHeartbeatFile(tenantId: string, slug: string, content: string) {
      return json(HeartbeatFile, await send("PUT", `${agentPath(slug)}/heartbeat`, { tenantId, body: { content } }));
    },
    async listSessions(tenantId: string, slug: string) {
      return (await json(SessionList, await send("GET", `${agentPath(slug)}/sessions`, { tenantId }))).sessions;
    },
    async getSession(tenantId: string, slug: string, key: string) {
      return json(SessionHistory, await send("GET", sessionPath(slug, key), { tenantId }));
    },
    /** A file sent with one of the session's messages (decision 042): its bytes and the gateway's description of it. */
    async getAttachment(tenantId: string, slug: string, key: string, id: string): Promise<{ attachment: AttachmentRef; bytes: Uint8Array }> {
      const response = await send("GET", `${sessionPath(slug, key)}/attachments/${encodeURIComponent(id)}`, { tenantId });
      const described = AttachmentRef.safeParse(parseJsonResult(decodeHeader(response.headers.get(ATTACHMENT_HEADER))));
      if (!described.success) {
        await response.body?.cancel();
        throw new AppError("gateway_error", "The agent gateway sent an attachment without a valid description");
      }
      return { attachment: described.data, bytes: new Uint8Array(await response.arrayBuffer()) };
    },
    async renameSession(tenantId: string, slug: string, key: string, title: string) {
      return (await json(SessionEnvelope, await send("PATCH", sessionPath(slug, key), { tenantId, body: { title } }))).session;
    },
    /** Names the session after its first exchange unless the user named it (decision 043); metered as `actor`'s. */
    async titleSession(tenantId: string, slug: string, key: string, input: SessionTitleRequest, actor: RunActor = {}) {
      return json(SessionTitleResult, await send("POST", `${sessionPath(slug, key)}/title`, { tenantId, body: input, headers: actorHeaders(actor) }));
    },
    async deleteSession(tenantId: string, slug: string, key: string): Promise<void> {
      await (await send("DELETE", sessionPath(slug, key), { tenantId })).body?.cancel();
    },
    /**
     * Asks the gateway to erase everything it holds for the tenant (`DELETE /v1/tenant`).
     * "unsupported" when the gateway has no such route (it answers 404/405), so the caller can
     * fall back to deleting agent by agent.
     */
    async deleteTenantData(tenantId: string): Promise<"deleted" | "unsupported"> {
      try {
        await (await send("DELETE", "/v1/tenant", { tenantId })).body?.cancel();
        return "deleted";
      } catch (error) {
        if (error instanceof AppError && (error.status === 404 || error.status === 405)) return "unsupported";
        throw error;
      }
    },
    /** The tenant's usage journal from byte `after` on (`GET /v1/usage/journal`). */
    async usageJournal(tenantId: string, after: number) {
      return json(UsageJournalPage, await send("GET", `/v1/usage/journal?after=${after}`, { tenantId }));
    },
    /** Which of these tenants have journal bytes past the given cursors (`POST /v1/usage/pending`). */
    async usagePending(cursors: { tenantId: string; after: number }[]) {
      return (await json(UsagePendingResponse, await send("POST", "/v1/usage/pending", { body: { cursors } }))).pending;
    },
    /** The bytes the tenant's files take on the gateway and its disk quota (`GET /v1/tenant/disk`). */
    async tenantDisk(tenantId: string, timeout?: number) {
      return json(TenantDiskUsage, await send("GET", "/v1/tenant/disk", { tenantId, ...(timeout === undefined ? {} : { timeoutMs: timeout }) }));
    },
    /** Hands the gateways a tenant's policy (limits, suspension); an older version than theirs changes nothing. Answers the one in force. */
    async putTenantPolicy(tenantId: string, policy: TenantPolicy) {
      return json(EffectiveTenantPolicy, await send("PUT", "/v1/tenant/policy", { tenantId, body: policy }));
    },
    /** The policy the gateway applies to a tenant (pushed, or its defaults). */
    async getTenantPolicy(tenantId: string) {
      return json(EffectiveTenantPolicy, await send("GET", "/v1/tenant/policy", { tenantId }));
    },
    /** What the gateway can offer runs beyond the workspace tools (`GET /v1/capabilities`): web fetch, web search's provider. */
    async capabilities(): Promise<GatewayCapabilities> {
      return json(GatewayCapabilities, await send("GET", "/v1/capabilities"));
    },
    /** The models the gateway can serve (`GET /v1/models`): its providers' lists, cached there, and the offline model. */
    async models(): Promise<ModelCatalogue> {
      return json(ModelCatalogue, await send("GET", "/v1/models"));
    },
    /**
     * Starts a run nobody streams (`POST /v1/agents/:slug/runs`, JSON): schedules, heartbeats,
     * approval resumes. Answers its RunInfo at once; the run's outcome comes back in the usage journal.
     * A retry with the same idempotencyKey answers the same run, on any gateway.
     */
    async startRun(tenantId: string, slug: string, input: GatewayRunInput, actor: RunActor = {}) {
      return json(RunInfo, await send("POST", `${agentPath(slug)}/runs`, { tenantId, body: input, headers: actorHeaders(actor) }));
    },
    /**
     * A decision on the tool call a session waits on (`POST /v1/agents/:slug/sessions/:key/approvals/:id`,
     * issue 15): starts the run that carries on, as `actor`, and answers its RunInfo (JSON, not
     * streamed). The gateway joins a repeat of the same decision to its first run, on any gateway.
     */
    async decideApproval(tenantId: string, slug: string, key: string, approvalId: string, input: ApprovalDecisionInput, actor: RunActor = {}) {
      const path = `${sessionPath(slug, key)}/approvals/${encodeURIComponent(approvalId)}`;
      return json(RunInfo, await send("POST", path, { tenantId, body: input, headers: actorHeaders(actor) }));
    },
    async getRun(tenantId: string, runId: string) {
      return json(RunInfo, await send("GET", runPath(runId), { tenantId }));
    },
    /**
     * What a tenant's MCP server offers (its name, version and tools), asked by the gateway with
     * these connection settings. A server that wants (re)authorisation throws McpAuthRequired with
     * the resource-metadata URL it named, where OAuth starts; other failures are AppErrors with the
     * gateway's code (mcp_unavailable, mcp_protocol_error, the SSRF guard's refusal, …).
     */
    async listMcpTools(tenantId: string, server: McpServerConnectionInput): Promise<McpToolsAnswer> {
      const response = await send("POST", "/v1/integrations/mcp/tools", { tenantId, body: server, timeoutMs: MCP_PROBE_TIMEOUT_MS, keepErrorResponse: true });
      if (response.ok) return json(McpToolsAnswer, response);
      const body = McpToolsErrorBody.safeParse(await response.clone().json().catch(() => undefined));
      if (body.success && body.data.error.code === "mcp_auth_required") throw new McpAuthRequired(body.data.error.message, body.data.error.resourceMetadataUrl);
      throw await gatewayError(response);
    },
    async abortRun(tenantId: string, runId: string) {
      return json(RunInfo, await send("POST", `${runPath(runId)}/abort`, { tenantId }));
    },
  };
}

/** Who a run is started for, as the gateway's actor headers. */
function actorHeaders(actor: RunActor): Record<string, string> {
  return { ...(actor.userId ? { [ACTOR_USER_HEADER]: actor.userId } : {}), ...(actor.apiKeyId ? { [ACTOR_API_KEY_HEADER]: actor.apiKeyId } : {}) };
}

/** The gateway waits up to 30 s for a server's initialize and tool list; this leaves it room to answer. */
const MCP_PROBE_TIMEOUT_MS = 45_000;

/** A tenant's MCP server refused its credentials: an admin must authorise it again (OAuth starts at `resourceMetadataUrl`). */
export class McpAuthRequired extends AppError {
  constructor(
    message: string,
    readonly resourceMetadataUrl: string | undefined,
  ) {
    super("mcp_auth_required", message);
  }
}

/** One gateway's client, or the cluster's routed one (chat/routed-gateway-client), whose streams survive a gateway. */
export type GatewayClient = Omit<ReturnType<typeof createGatewayClient>, "streams"> & { streams: RunStreams };

/**
 * Keeps the gateway's code and status for errors about the caller's request; a rejected hook
 * token is the operator's problem, not the user's, so it becomes 502 gateway_error.
 */
async function gatewayError(response: Response): Promise<AppError> {
  let detail: ApiErrorBody["error"] | undefined;
  try {
    const parsed = ApiErrorBody.safeParse(await response.json());
    if (parsed.success) detail = parsed.data.error;
  } catch {
    // not JSON: fall through to a generic message
  }
  if (response.status === 401 || response.status === 403) {
    return new AppError("gateway_error", "The agent gateway rejected the platform's credentials; CLAWDBOT_HOOK_TOKEN must be the same for both services");
  }
  if (detail && isErrorCode(detail.code)) {
    const headers: Record<string, string> = {};
    const retryAfter = response.headers.get("retry-after");
    if (retryAfter) headers["retry-after"] = retryAfter;
    return new AppError(detail.code, detail.message, {
      status: response.status,
      ...(detail.retryable === undefined ? {} : { retryable: detail.retryable }),
      headers,
    });
  }
  if (response.status >= 500) {
    return new AppError("gateway_error", detail?.message ?? `The agent gateway failed (HTTP ${response.status})`);
  }
  return new AppError("gateway_error", detail?.message ?? `The agent gateway refused the request (HTTP ${response.status})`, {
    status: response.status >= 400 && response.status < 500 ? response.status : 502,
  });
}
