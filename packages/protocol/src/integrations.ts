import { z } from "zod";
import { SendMessageInput } from "./gateway-api";
import { RunTrigger } from "./tenant-events";

/*
 * What a run may use beyond the workspace tools: MCP servers, Composio tools, web tools and the
 * organisation's own model key (issue 14). The platform owns all of it (encrypted secrets, grants
 * per agent, in Postgres under RLS) and hands the gateway exactly what one run needs, with the run
 * request, over the hook-token channel. The gateway keeps it in memory for that run only: never in
 * the data dir, a transcript, a journal, a log line or an error message.
 */

/** How an agent may use a granted tool: at once, or after a member approves the call (issue 15). Not granted: denied. */
export const ToolMode = z.enum(["allow", "ask"]);
export type ToolMode = z.infer<typeof ToolMode>;

/**
 * How an agent may use a tool, per tool (issue 15): `allow` runs it at once, `ask` pauses the run
 * until a member approves the call, `deny` does not offer it to the model at all.
 */
export const AgentToolMode = z.enum(["allow", "ask", "deny"]);
export type AgentToolMode = z.infer<typeof AgentToolMode>;

/**
 * An agent's tool modes, by the tool's name as the model sees it: workspace tools (`read_file`,
 * `write_file`, …), `web_fetch`, `web_search`, `mcp__{namespace}__{tool}`, Composio slugs. An MCP
 * tool whose name the gateway had to shorten is found under `mcp__{namespace}__{the server's name}`
 * too. A tool not named here is allowed, unless its grant says `ask`; the stricter of the two wins.
 */
export const ToolModes = z
  .record(z.string().min(1).max(200), AgentToolMode)
  .refine((modes) => Object.keys(modes).length <= 2_000, "at most 2,000 tools");
export type ToolModes = z.infer<typeof ToolModes>;

/** One tool granted to the agent, by the name its source gives it (MCP tool name, Composio tool slug). */
export const ToolGrant = z.object({ name: z.string().min(1).max(200), mode: ToolMode });
export type ToolGrant = z.infer<typeof ToolGrant>;

/**
 * An MCP server's short name, unique in its organisation: the prefix of its tools' names as the model
 * sees them (`mcp__{namespace}__{tool}`), so two servers' tools never collide.
 */
export const MCP_NAMESPACE_PATTERN = /^[a-z0-9](?:[a-z0-9]|_(?!_)){0,23}$/;
export const McpNamespace = z
  .string()
  .regex(MCP_NAMESPACE_PATTERN, "must be 1-24 characters of a-z, 0-9 and single '_', starting with a letter or digit");

export const McpTransport = z.enum(["streamable-http", "sse"]);
export type McpTransport = z.infer<typeof McpTransport>;

/** An MCP server as one run may use it. `headers` hold decrypted secrets (an OAuth access token included). */
export const RunMcpServer = z.object({
  serverId: z.string().uuid(),
  namespace: McpNamespace,
  transport: McpTransport,
  url: z.string().url().max(2000),
  headers: z.record(z.string(), z.string().max(8000)).default({}),
  /** Changes whenever url, transport or headers change: the gateway keys its pooled MCP session by it. */
  revision: z.string().min(1).max(128),
  /** The tools the agent may call; a tool the server offers beyond these is not shown to the model. */
  tools: z.array(ToolGrant).max(500),
});
export type RunMcpServer = z.infer<typeof RunMcpServer>;

/** A Composio tool granted to the agent, with the connected account it runs as. */
export const RunComposioTool = z.object({
  /** Composio's tool slug, e.g. GITHUB_CREATE_AN_ISSUE: also its name as the model sees it. */
  slug: z.string().regex(/^[A-Z0-9_]{1,64}$/, "must be a Composio tool slug"),
  toolkit: z.string().min(1).max(100),
  connectedAccountId: z.string().min(1).max(200),
  mode: ToolMode,
});
export type RunComposioTool = z.infer<typeof RunComposioTool>;

export const RunComposio = z.object({
  /** The operator's COMPOSIO_API_KEY and endpoint. */
  apiKey: z.string().min(1).max(4000),
  baseUrl: z.string().url().max(2000),
  /** Composio's user id for the organisation (our tenant id): a connected account is used only with it. */
  userId: z.string().min(1).max(200),
  tools: z.array(RunComposioTool).max(500),
});
export type RunComposio = z.infer<typeof RunComposio>;

export const ModelKeyProvider = z.enum(["anthropic", "openai-compatible"]);
export type ModelKeyProvider = z.infer<typeof ModelKeyProvider>;

/** An organisation's own model key for one provider. */
export const RunModelKey = z.object({
  apiKey: z.string().min(1).max(4000),
  /** Anthropic: optional; OpenAI-compatible: required. */
  baseUrl: z.string().url().max(2000).optional(),
  /** "…abcd": how errors name the key without showing it. */
  hint: z.string().max(32),
  /** The operator lets this key's base URL reach private addresses (Ollama on the operator's network). */
  allowPrivateNetwork: z.boolean().default(false),
});
export type RunModelKey = z.infer<typeof RunModelKey>;

export const RunIntegrations = z.object({
  /** The organisation's own model keys, by provider; a run of that provider uses it instead of the operator's. */
  modelKeys: z.object({ anthropic: RunModelKey.optional(), "openai-compatible": RunModelKey.optional() }).default({}),
  /** Whether a provider the organisation has no key for may use the operator's key (the operator decides). */
  platformKeyFallback: z.boolean().default(true),
  web: z.object({ fetch: z.boolean().default(false), search: z.boolean().default(false) }).default({ fetch: false, search: false }),
  mcp: z.array(RunMcpServer).max(32).default([]),
  composio: RunComposio.optional(),
  /** The agent's tool modes (see ToolModes); absent: every tool offered is allowed, but for `ask` grants. */
  toolModes: ToolModes.optional(),
});
export type RunIntegrations = z.infer<typeof RunIntegrations>;
export type RunIntegrationsInput = z.input<typeof RunIntegrations>;

/** Nothing beyond the workspace tools, the operator's model keys. */
export const NO_INTEGRATIONS: RunIntegrations = RunIntegrations.parse({});

/**
 * The gateway's `POST /v1/agents/:slug/runs` body: a message plus what the run may use. Only the
 * platform (holding the hook token) sends `integrations`; the platform's own `/api` accepts
 * `SendMessageInput`, which has no such field (zod drops it).
 */
export const GatewayRunInput = SendMessageInput.extend({
  integrations: RunIntegrations.optional(),
  /** A run the platform fired on its own (schedule, heartbeat, approval resume): metered with source "schedule", named in its usage record. */
  trigger: RunTrigger.optional(),
  /**
   * A heartbeat run (heartbeat.ts): `message` is the heartbeat prompt, the session defaults to
   * `heartbeat`; it is skipped without a model call when HEARTBEAT.md is effectively empty, and a
   * HEARTBEAT_OK answer leaves nothing in the transcript.
   */
  heartbeat: z.boolean().optional(),
});
export type GatewayRunInput = z.infer<typeof GatewayRunInput>;

/**
 * `POST /v1/agents/:slug/sessions/:key/approvals/:approvalId`: a decision on the call the session
 * waits on. It starts the run that carries on (approve: the call runs, with this request's
 * integrations; deny: the model reads a refusal), answered like `POST /v1/agents/:slug/runs`.
 */
export const ApprovalDecisionInput = z
  .object({
    decision: z.enum(["approve", "deny"]),
    /** Told to the model with a denial (and recorded with the decision). */
    reason: z.string().trim().max(2_000).optional(),
    /** The platform denies because nobody decided in time. */
    timedOut: z.boolean().optional(),
    integrations: RunIntegrations.optional(),
    /** The platform decides on its own (a timeout), or carries out a member's decision from its job queue: see GatewayRunInput. */
    trigger: RunTrigger.optional(),
  })
  .refine((input) => !(input.timedOut === true && input.decision === "approve"), { message: "a timed-out approval can only be denied", path: ["timedOut"] });
export type ApprovalDecisionInput = z.infer<typeof ApprovalDecisionInput>;
