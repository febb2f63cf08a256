import os from "node:os";
import path from "node:path";
import { metricsAccessFrom, type MetricsAccess } from "@workforce/metrics";
import { DEFAULT_REDIS_KEY_PREFIX, type TenantLimits } from "@workforce/protocol";
import { LOG_LEVELS, tracingSettingsFrom, type LogLevel, type TracingSettings } from "@workforce/logging";
import { outboundPolicyFromEnv, PUBLIC_ONLY, type OutboundPolicy } from "@workforce/net-guard";
import { z } from "zod";

/** The Claude model agents use when they name none: current, and not on the SDK's deprecation list. */
export const DEFAULT_CLAUDE_MODEL = "claude-sonnet-5-5";
export const DEFAULT_PORT = 18789;
export const DEFAULT_BIND = "127.0.0.1";

/** A start-up problem the operator must fix; the message names the variable or flag and the fix. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
    this.name = "ConfigError";
  }
}

const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const optionalUrl = (name: string) =>
  optionalText.refine((value) => value === undefined || URL.canParse(value), {
    message: `${name} must be a full URL such as http://127.0.0.1:8080`,
  });

const integerText = (name: string, fallback: number, min: number, max: number) =>
  optionalText
    .transform((value) => (value === undefined ? fallback : Number(value)))
    .refine((value) => Number.isInteger(value) && value >= min && value <= max, {
      message: `${name} must be a whole number between ${min} and ${max}`,
    });

/** Every environment variable the gateway reads, validated once at start-up. */
const GatewayEnv = z.object({
  /** Root of all tenant data; absolute. Defaults to ~/.workforce/tenants. */
  TENANT_DATA_DIR: optionalText,
  /** Turns on the Anthropic provider; without it Claude models fall back to the offline model. */
  ANTHROPIC_API_KEY: optionalText,
  /** Alternative Anthropic endpoint (proxy, local fake). */
  ANTHROPIC_BASE_URL: optionalUrl("ANTHROPIC_BASE_URL"),
  /** Shared secret the platform presents; required when binding beyond loopback. */
  CLAWDBOT_HOOK_TOKEN: optionalText,
  /** Model for agents that name none: a Claude model id, "offline" or "openai:<model>". */
  WORKFORCE_DEFAULT_MODEL: optionalText,
  /** OpenAI-compatible endpoint (Ollama, vLLM, OpenAI) for agents whose model is "openai:<model>". */
  OPENAI_BASE_URL: optionalUrl("OPENAI_BASE_URL"),
  OPENAI_API_KEY: optionalText,
  /** Delay between the offline model's tokens, so streaming is visible. */
  OFFLINE_MODEL_DELAY_MS: integerText("OFFLINE_MODEL_DELAY_MS", 15, 0, 10_000),
  /** Longest a run may take before it ends with run_timeout. */
  WORKFORCE_RUN_TIMEOUT_MS: integerText("WORKFORCE_RUN_TIMEOUT_MS", 10 * 60_000, 1_000, 24 * 3_600_000),
  /** Runs executing at once across all tenants; more wait in their queue. */
  WORKFORCE_MAX_CONCURRENT_RUNS: integerText("WORKFORCE_MAX_CONCURRENT_RUNS", 16, 1, 10_000),
  /**
   * Optional Redis (`redis://…`, `rediss://…`): this gateway publishes its runs' status and events
   * there, so other gateways on the same TENANT_DATA_DIR can replay and abort them.
   */
  REDIS_URL: optionalText.refine((value) => value === undefined || /^rediss?:\/\/./.test(value), {
    message: "REDIS_URL must look like redis://127.0.0.1:6379 (or rediss:// for TLS)",
  }),
  /**
   * Namespace of every Redis key and channel (default `workforce:`): the same on every gateway and
   * platform of one deployment, different for deployments sharing one Redis.
   */
  REDIS_KEY_PREFIX: optionalText.refine((value) => value === undefined || /^[A-Za-z0-9:._-]{1,64}$/.test(value), {
    message: "REDIS_KEY_PREFIX must be 1-64 letters, digits or : . _ - (e.g. workforce:)",
  }),
  /**
   * The URL the platform and the other gateways reach this gateway at (cluster mode); default
   * http://127.0.0.1:{port} when bound to loopback, else http://{hostname}:{port}.
   */
  GATEWAY_ADVERTISE_URL: optionalUrl("GATEWAY_ADVERTISE_URL").refine((value) => value === undefined || /^https?:\/\//.test(value), {
    message: "GATEWAY_ADVERTISE_URL must be an http:// or https:// URL such as http://gateway-1:18789",
  }),
  /** A tenant's runs executing at once on this gateway, for tenants the platform pushed no limits for. */
  WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: integerText("WORKFORCE_TENANT_MAX_CONCURRENT_RUNS", 4, 1, 10_000),
  /** A tenant's runs waiting on this gateway before 429 tenant_queue_full (same fallback role). */
  WORKFORCE_TENANT_MAX_QUEUED_RUNS: integerText("WORKFORCE_TENANT_MAX_QUEUED_RUNS", 200, 0, 100_000),
  /** A tenant's disk quota in MB over TENANT_DATA_DIR/{tenant} (same fallback role); 0 means none. */
  WORKFORCE_TENANT_DISK_MB: integerText("WORKFORCE_TENANT_DISK_MB", 2_048, 0, 100_000_000),
  /** Agent session registries kept in memory once idle; the least recently used are written out and dropped. */
  WORKFORCE_REGISTRY_CACHE: integerText("WORKFORCE_REGISTRY_CACHE", 1_000, 1, 1_000_000),
  /**
   * Finished runs whose events stay replayable (Last-Event-ID resume) for up to 15 minutes; the
   * oldest are forgotten first, and a client then reads the transcript instead.
   */
  WORKFORCE_RETAINED_RUNS: integerText("WORKFORCE_RETAINED_RUNS", 500, 1, 1_000_000),
  /** Bearer token Prometheus presents for `GET /metrics`; without it (or METRICS_PORT) nobody may scrape. */
  METRICS_TOKEN: optionalText,
  /** A listener of its own serving only `/metrics` (kept off the public port by the network). */
  METRICS_PORT: optionalText.refine((value) => value === undefined || (/^\d+$/.test(value) && Number(value) <= 65_535), {
    message: "METRICS_PORT must be a port number between 0 and 65535",
  }),
  /** The interface of the METRICS_PORT listener (default 127.0.0.1; 0.0.0.0 in a container). */
  METRICS_BIND: optionalText,
  /** "1": runs, tokens and queues also get a `tenant` label (the first 50 tenants; later ones count as "other"). */
  METRICS_TENANT_LABELS: optionalText.refine((value) => value === undefined || value === "0" || value === "1", {
    message: "METRICS_TENANT_LABELS must be 1 (per-tenant labels) or 0",
  }),
  /** OTLP/HTTP collector base URL; spans go to `<it>/v1/traces`. Unset (and no traces endpoint): no tracing, nothing of it loaded. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalText,
  /** The full traces URL, overriding the base one (OpenTelemetry specification). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalText,
  /** `key=value,…` headers sent with each export (a collector's API key: never logged). */
  OTEL_EXPORTER_OTLP_HEADERS: optionalText,
  /** service.name of the spans (default "gateway"). */
  OTEL_SERVICE_NAME: optionalText,
  /** Longest wait between span exports in ms (default 5000). */
  OTEL_BSP_SCHEDULE_DELAY: optionalText,
  /** Longest wait for one request to a tenant's MCP server, a tool call included, before mcp_tool_timeout. */
  WORKFORCE_MCP_TOOL_TIMEOUT_MS: integerText("WORKFORCE_MCP_TOOL_TIMEOUT_MS", 60_000, 1_000, 3_600_000),
  /** MCP client sessions one organisation may hold open; the least recently used idle one makes room. */
  WORKFORCE_MCP_MAX_SESSIONS_PER_TENANT: integerText("WORKFORCE_MCP_MAX_SESSIONS_PER_TENANT", 8, 1, 1_000),
  /** MCP client sessions this gateway may hold open across organisations. */
  WORKFORCE_MCP_MAX_SESSIONS: integerText("WORKFORCE_MCP_MAX_SESSIONS", 256, 1, 100_000),
  /** `true`: outgoing connections (web tools, MCP servers, organisations' model base URLs) may reach private addresses (decision 030). */
  WORKFORCE_OUTBOUND_ALLOW_PRIVATE: optionalText,
  /** Comma-separated hosts, host:port, addresses or CIDR ranges outgoing connections may reach although private. */
  WORKFORCE_OUTBOUND_ALLOW_HOSTS: optionalText,
  /** The web_search tool's provider: `brave` or `searxng`; unset, web_search is not offered. */
  WEB_SEARCH_PROVIDER: optionalText.refine((value) => value === undefined || value === "brave" || value === "searxng", {
    message: "WEB_SEARCH_PROVIDER must be brave or searxng (or unset: no web search)",
  }),
  /** Brave Search API subscription token (WEB_SEARCH_PROVIDER=brave). */
  WEB_SEARCH_API_KEY: optionalText,
  /** The provider's base URL: a SearXNG instance (required for searxng), or another Brave endpoint. */
  WEB_SEARCH_URL: optionalUrl("WEB_SEARCH_URL"),
  /** The page web_fetch's User-Agent points site owners to (`WorkforceBot/<version> (+<it>)`): the operator's contact or bot policy. */
  WEB_FETCH_INFO_URL: optionalUrl("WEB_FETCH_INFO_URL"),
  /** Lowest level of the JSON log lines written to stdout (docs: README "Logs"). */
  LOG_LEVEL: optionalText.pipe(z.enum(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}` }).default("info")),
});

/** Every variable the gateway reads (the README's configuration table must list each). */
export const GATEWAY_ENV_NAMES: readonly string[] = Object.keys(GatewayEnv.shape);

export interface GatewayConfig {
  port: number;
  bind: string;
  /** Absolute path of TENANT_DATA_DIR. */
  dataDir: string;
  hookToken: string | undefined;
  anthropic: { apiKey: string; baseURL: string | undefined } | undefined;
  openai: { baseURL: string; apiKey: string | undefined } | undefined;
  defaultModel: string;
  offlineTokenDelayMs: number;
  runTimeoutMs: number;
  /** WORKFORCE_MAX_CONCURRENT_RUNS: runs executing at once in this process, and across the cluster with REDIS_URL. */
  maxConcurrentRuns: number;
  /** Idle agent registries kept loaded (WORKFORCE_REGISTRY_CACHE). */
  registryCacheSize: number;
  /** Finished runs kept for replay (WORKFORCE_RETAINED_RUNS). */
  retainedRuns: number;
  /** REDIS_URL: where runs are relayed to other gateways, members registered, idempotency keys shared and run limits counted; undefined runs alone. */
  redisUrl: string | undefined;
  /** REDIS_KEY_PREFIX (default `workforce:`). */
  redisKeyPrefix: string;
  /** GATEWAY_ADVERTISE_URL as set; undefined: `defaultAdvertiseUrl(bind, port)` once the port is known. */
  advertiseUrl: string | undefined;
  /** Limits of tenants the platform pushed none for (WORKFORCE_TENANT_*). */
  tenantDefaults: TenantLimits;
  /** Who may scrape `/metrics` (METRICS_TOKEN, METRICS_PORT, METRICS_BIND) and whether series carry tenant labels. */
  metrics: { access: MetricsAccess; tenantLabels: boolean };
  /** Where spans are exported (OTEL_EXPORTER_OTLP_*); undefined: tracing is off. */
  tracing?: TracingSettings | undefined;
  /** LOG_LEVEL. */
  logLevel: LogLevel;
  /** Tenants' MCP servers (WORKFORCE_MCP_*). */
  mcp: { toolTimeoutMs: number; maxSessionsPerTenant: number; maxSessions: number };
  /** Where outgoing connections may go (WORKFORCE_OUTBOUND_ALLOW_PRIVATE, WORKFORCE_OUTBOUND_ALLOW_HOSTS; packages/net-guard). */
  outbound: OutboundPolicy;
  /** The web_search tool's provider (WEB_SEARCH_*); undefined: web_search is not offered. */
  webSearch: WebSearchConfig | undefined;
  /** WEB_FETCH_INFO_URL: named in the web tools' User-Agent so a site owner can find who fetches; undefined names none. */
  webFetchInfoUrl: string | undefined;
}

/** Where web_search asks: Brave's Search API with the operator's token, or a SearXNG instance. */
export type WebSearchConfig = { provider: "brave"; apiKey: string; baseUrl: string } | { provider: "searxng"; baseUrl: string };

/** Brave Search API's origin; its web search is `GET /res/v1/web/search`. */
export const BRAVE_SEARCH_BASE_URL = "https://api.search.brave.com";

function webSearchFrom(values: { WEB_SEARCH_PROVIDER?: string | undefined; WEB_SEARCH_API_KEY?: string | undefined; WEB_SEARCH_URL?: string | undefined }, problems: string[]): WebSearchConfig | undefined {
  const { WEB_SEARCH_PROVIDER: provider, WEB_SEARCH_API_KEY: apiKey, WEB_SEARCH_URL: url } = values;
  const baseUrl = url?.replace(/\/+$/, "");
  if (provider === "brave") {
    if (!apiKey) problems.push("WEB_SEARCH_PROVIDER=brave needs WEB_SEARCH_API_KEY (a Brave Search API subscription token)");
    return apiKey ? { provider, apiKey, baseUrl: baseUrl ?? BRAVE_SEARCH_BASE_URL } : undefined;
  }
  if (provider === "searxng") {
    if (!baseUrl) problems.push("WEB_SEARCH_PROVIDER=searxng needs WEB_SEARCH_URL (the instance, e.g. http://searxng:8080, with the json format enabled)");
    if (apiKey) problems.push("WEB_SEARCH_API_KEY is for WEB_SEARCH_PROVIDER=brave; SearXNG takes no key: unset it");
    return baseUrl ? { provider, baseUrl } : undefined;
  }
  if (apiKey || url) problems.push("WEB_SEARCH_API_KEY and WEB_SEARCH_URL need WEB_SEARCH_PROVIDER (brave or searxng)");
  return undefined;
}

export interface CliFlags {
  port?: string | undefined;
  bind?: string | undefined;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Where others reach a gateway that set no GATEWAY_ADVERTISE_URL: loopback stays loopback, anything else is this host. */
export function defaultAdvertiseUrl(bind: string, port: number, hostname = os.hostname()): string {
  if (bind === "::1") return `http://[::1]:${port}`;
  return isLoopback(bind) ? `http://127.0.0.1:${port}` : `http://${hostname}:${port}`;
}

/**
 * Builds the gateway configuration from the environment and CLI flags. Collects every problem
 * before failing so the operator fixes them in one go.
 */
export function loadConfig(env: Record<string, string | undefined>, flags: CliFlags, homeDir = os.homedir()): GatewayConfig {
  const problems: string[] = [];
  const parsed = GatewayEnv.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
  }

  const port = flags.port === undefined ? DEFAULT_PORT : Number(flags.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    problems.push(`--port must be a whole number between 0 and 65535, got "${flags.port}"`);
  }
  const bind = flags.bind?.trim() || DEFAULT_BIND;

  const rawDataDir = env.TENANT_DATA_DIR?.trim() || undefined;
  const dataDir = rawDataDir ?? path.join(homeDir, ".workforce", "tenants");
  if (!path.isAbsolute(dataDir)) {
    problems.push(
      `TENANT_DATA_DIR must be an absolute path, got "${dataDir}" (it would resolve to "${path.resolve(dataDir)}" ` +
        `from this directory, but the platform may resolve it differently). Fix: set TENANT_DATA_DIR=${path.resolve(dataDir)} ` +
        `(the same absolute value for gateway and platform).`,
    );
  }

  const hookToken = env.CLAWDBOT_HOOK_TOKEN?.trim() || undefined;
  if (!hookToken && !isLoopback(bind)) {
    problems.push(
      `refusing to bind ${bind} without CLAWDBOT_HOOK_TOKEN: anyone on the network could read every tenant's data. ` +
        `Fix: set CLAWDBOT_HOOK_TOKEN to a long random secret (e.g. \`openssl rand -hex 32\`) on gateway and platform, or use --bind 127.0.0.1.`,
    );
  }

  const metricsPort = env.METRICS_PORT?.trim() ? Number(env.METRICS_PORT.trim()) : undefined;
  const metrics = metricsAccessFrom({ token: env.METRICS_TOKEN?.trim() || undefined, port: metricsPort, bind: env.METRICS_BIND?.trim() || undefined });
  problems.push(...metrics.problems);
  if (metricsPort !== undefined && metricsPort !== 0 && metricsPort === port) {
    problems.push(`METRICS_PORT ${metricsPort} is the gateway's own port; choose another (e.g. 9464) or unset it and scrape /metrics with METRICS_TOKEN`);
  }

  let tracing: TracingSettings | undefined;
  try {
    tracing = tracingSettingsFrom(env, "gateway");
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }

  let outbound: OutboundPolicy = PUBLIC_ONLY;
  try {
    outbound = outboundPolicyFromEnv(env);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }

  const webSearch = parsed.success ? webSearchFrom(parsed.data, problems) : undefined;

  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const values = parsed.data;
  return {
    port,
    bind,
    dataDir: path.resolve(dataDir),
    hookToken,
    anthropic: values.ANTHROPIC_API_KEY ? { apiKey: values.ANTHROPIC_API_KEY, baseURL: values.ANTHROPIC_BASE_URL } : undefined,
    openai:
      values.OPENAI_BASE_URL || values.OPENAI_API_KEY
        ? { baseURL: values.OPENAI_BASE_URL ?? "https://api.openai.com/v1", apiKey: values.OPENAI_API_KEY }
        : undefined,
    defaultModel: values.WORKFORCE_DEFAULT_MODEL ?? DEFAULT_CLAUDE_MODEL,
    offlineTokenDelayMs: values.OFFLINE_MODEL_DELAY_MS,
    runTimeoutMs: values.WORKFORCE_RUN_TIMEOUT_MS,
    maxConcurrentRuns: values.WORKFORCE_MAX_CONCURRENT_RUNS,
    registryCacheSize: values.WORKFORCE_REGISTRY_CACHE,
    retainedRuns: values.WORKFORCE_RETAINED_RUNS,
    redisUrl: values.REDIS_URL,
    redisKeyPrefix: values.REDIS_KEY_PREFIX ?? DEFAULT_REDIS_KEY_PREFIX,
    advertiseUrl: values.GATEWAY_ADVERTISE_URL?.replace(/\/+$/, ""),
    logLevel: values.LOG_LEVEL,
    mcp: {
      toolTimeoutMs: values.WORKFORCE_MCP_TOOL_TIMEOUT_MS,
      maxSessionsPerTenant: values.WORKFORCE_MCP_MAX_SESSIONS_PER_TENANT,
      maxSessions: values.WORKFORCE_MCP_MAX_SESSIONS,
    },
    tenantDefaults: {
      maxConcurrentRuns: values.WORKFORCE_TENANT_MAX_CONCURRENT_RUNS,
      maxQueuedRuns: values.WORKFORCE_TENANT_MAX_QUEUED_RUNS,
      monthlyTokens: null,
      diskBytes: values.WORKFORCE_TENANT_DISK_MB === 0 ? null : values.WORKFORCE_TENANT_DISK_MB * 1024 * 1024,
    },
    metrics: { access: metrics.access, tenantLabels: values.METRICS_TENANT_LABELS === "1" },
    tracing,
    outbound,
    webSearch,
    webFetchInfoUrl: values.WEB_FETCH_INFO_URL,
  };
}
