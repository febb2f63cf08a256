import { randomUUID } from "node:crypto";
import type { GatewayCapabilities, GatewayHealth, ModelInfo } from "@workforce/protocol";
import { lockOwnersDirPath, TenantRoots } from "@workforce/protocol/tenant-path";
import type { Hono } from "hono";
import { createAgentStore, type AgentStore } from "./agents/agent-store";
import { createHeartbeatFiles } from "./agents/heartbeat-file";
import { SystemPromptCache } from "./agents/system-prompt-cache";
import { TenantConfigCache } from "./agents/tenant-config";
import type { GatewayConfig } from "./config";
import { lazyLeases } from "./coordination/lazy-leases";
import type { Leases } from "./coordination/leases";
import { lazyRegistryVersions, type RegistryVersions } from "./coordination/registry-versions";
import { createDataDirGuard, type PreparedDataDir } from "./data-dir";
import { createFileLocks, type FileLocks } from "./fs/file-lock";
import { createOfflineProvider } from "./llm/adapters/offline/offline-provider";
import { createModelCatalogue } from "./llm/model-catalogue";
import type { ModelProvider } from "./llm/model-provider";
import { createModelRouter } from "./llm/model-router";
import { createSessionTitler } from "./sessions/session-titles";
import type { OrganisationProviders } from "./llm/organisation-providers";
import type { Tracer } from "@workforce/logging";
import type { LogContext, Logger } from "./logger";
import { createGatewayMetrics, type GatewayMetrics } from "./metrics/gateway-metrics";
import { createMetering, type Metering } from "./metering/metering";
import { createUsageJournal } from "./metering/usage-journal";
import { runAgentTurn } from "./runs/agent-loop";
import { readAttachment, removeAttachment } from "./runs/attachments";
import { runHeartbeat } from "./runs/heartbeat-run";
import { composeAdmissions, type Admission } from "./runs/admission";
import type { CompactionOptions } from "./runs/compaction";
import { createInFlightJournal, type InFlightJournal } from "./runs/in-flight-journal";
import { createInterruptedRuns, waitingForInterruptedRuns } from "./runs/interrupted-runs";
import { lazyRunRelay } from "./runs/lazy-run-relay";
import { lazyClusterSlots, type ClusterSlots } from "./runs/cluster-slots";
import { lazyIdempotencyKeys, type IdempotencyKeys } from "./coordination/idempotency-keys";
import { createRunManager, type RunManager, type RunManagerLimits } from "./runs/run-manager";
import type { RunEventRelay } from "./runs/run-relay";
import { lazyRunReaper, type RunReaper } from "./runs/run-reaper";
import { observeAll, runTracing } from "./runs/run-tracing";
import { AuthFailureLimiter, DEFAULT_AUTH_FAILURE_LIMITS, type AuthFailureLimits } from "./server/auth-failures";
import { createTenantRestore } from "./backup/tenant-restore";
import { createGatewayApp, type GatewayAppDeps } from "./server/create-gateway-app";
import type { GatewayEnv } from "./server/gateway-env";
import { createWsGateway, type WsGateway } from "./server/ws/ws-gateway";
import { createSessionStore, type SessionStore } from "./sessions/session-store";
import { createDiskUsage, type DiskUsage, type DiskUsageOptions } from "./tenants/disk-usage";
import { createTenantErasure } from "./tenants/tenant-erasure";
import { createTenantPolicies, DEFAULT_TENANT_LIMITS, type TenantPolicies } from "./tenants/tenant-policy";
import { combineToolSources, type RunToolSource } from "./tools/run-tools";
import type { ProbeMcpServer } from "./tools/mcp/mcp-integration";
import type { Tool } from "./tools/tool";
import { createWorkspaceTools } from "./tools/workspace-tools";
import { createReadiness } from "./readiness";
import { newMemberId } from "./coordination/member-id";
import { createLocalMembership, lazyRedisMembership, type Membership } from "./coordination/membership";
import { forwardingSubmit, localSubmit } from "./runs/run-forwarding";

export const GATEWAY_VERSION = "0.1.0";

/** The admission of a run that reserved nothing (the disk check holds nothing until the run ends). */
const NOTHING_HELD: Admission = { ended: () => undefined, release: () => undefined };

/** Metrics are collected but served to nobody unless configured (METRICS_TOKEN / METRICS_PORT). */
const NO_METRICS_ACCESS: GatewayConfig["metrics"] = { access: { token: undefined, port: undefined, bind: "127.0.0.1" }, tenantLabels: false };

export interface GatewayOptions {
  config: Pick<GatewayConfig, "dataDir" | "hookToken" | "defaultModel" | "offlineTokenDelayMs" | "runTimeoutMs" | "maxConcurrentRuns"> &
    Partial<Pick<GatewayConfig, "registryCacheSize" | "redisUrl" | "redisKeyPrefix" | "retainedRuns" | "tenantDefaults" | "metrics">>;
  dataDir: PreparedDataDir;
  logger: Logger;
  /** The request/run context of log lines (request ids, tenant, run); none in most tests. */
  logContext?: LogContext;
  /** Spans of requests and runs, when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  tracer?: Tracer | undefined;
  /**
   * Real providers, built by the caller from config (so tests can point them at fakes); `organisation`
   * builds them with an organisation's own key (issue 14): without it, runs use the operator's keys.
   */
  providers?: { anthropic?: ModelProvider | undefined; openaiCompatible?: ModelProvider | undefined; organisation?: OrganisationProviders | undefined };
  tools?: readonly Tool[];
  /** Where runs' integration tools come from (MCP, Composio, web): built from config by main (tools/run-tool-sources). */
  runToolSources?: readonly RunToolSource[];
  /** What those sources can offer (`GET /v1/capabilities`); nothing beyond the workspace tools when absent. */
  capabilities?: GatewayCapabilities;
  /** `POST /v1/integrations/mcp/tools` (tools/run-tool-sources); absent, not served. */
  mcpProbe?: ProbeMcpServer;
  now?: () => Date;
  newId?: () => string;
  limits?: Partial<RunManagerLimits>;
  heartbeatMs?: number;
  clientAddress?: GatewayAppDeps["clientAddress"];
  /** Conversation compaction tuning (see runs/compaction). */
  compaction?: CompactionOptions;
  /** Which gateways are alive; built from config.redisUrl when absent (alone without it). */
  membership?: Membership;
  /** How long a member stays listed after its last heartbeat (cluster mode; default 10 s). */
  memberTtlMs?: number;
  /** Relays runs to other gateways; built from config.redisUrl when absent. */
  relay?: RunEventRelay;
  /** Namespace of the Redis keys and channels built from config.redisUrl (default `workforce:`; tests use their own). */
  redisKeyPrefix?: string;
  /** Idempotency keys shared by the cluster; built from config.redisUrl when absent. */
  idempotency?: IdempotencyKeys;
  /** Run slots and queue bounds counted across the cluster; built from config.redisUrl when absent. */
  slots?: ClusterSlots;
  /** Ends the runs of gateways that died (cluster mode); built from config.redisUrl when absent. */
  reaper?: RunReaper;
  /** This process's journal of runs in flight; created over the data dir when absent (tests wrap one to hold its writes). */
  inFlight?: InFlightJournal;
  /** Failed authentications per address before rate_limited, across HTTP and WebSocket. */
  authFailureLimits?: AuthFailureLimits;
  /** Cross-process lock files over TENANT_DATA_DIR (default: this process's own). */
  locks?: FileLocks;
  /** This gateway's identity in the cluster (holder of its leases, its membership entry); default from coordination/member-id. */
  memberId?: string;
  /**
   * Leases with fencing tokens shared by the cluster; built on config.redisUrl when absent. Without
   * either, lock files. With cluster membership, a message for a session whose run lease another
   * member holds is forwarded there.
   */
  leases?: Leases;
  /** Where session registries record their version in cluster mode; built on config.redisUrl when absent. */
  registryVersions?: RegistryVersions;
  /** Disk-usage tracking tuning (how often figures are walked again; see tenants/disk-usage). */
  disk?: Pick<DiskUsageOptions, "clock" | "refreshMs" | "nearQuotaRefreshMs">;
  /** Registry compaction tuning (see SessionRegistry). */
  registry?: { compactDelayMs?: number; minJournalLines?: number; eagerMaxSessions?: number };
}

export interface Gateway {
  app: Hono<GatewayEnv>;
  agents: AgentStore;
  sessions: SessionStore;
  runs: RunManager;
  /** Limits and suspension per tenant, as the platform pushed them. */
  policies: TenantPolicies;
  /** Usage journals and monthly token budgets (metering/). */
  metering: Metering;
  /** Bytes per tenant under TENANT_DATA_DIR and their quotas. */
  disk: DiskUsage;
  /** Attach to the HTTP server's `upgrade` event for `/v1/ws`. */
  websocket: WsGateway;
  defaultModel: ModelInfo;
  /** Its metrics registry and who may scrape it (`GET /metrics`; main.ts serves METRICS_PORT). */
  metrics: GatewayMetrics;
  /** Its identity and the live gateways (cluster mode: in Redis). */
  membership: Membership;
  /** Registers this gateway at the URL others reach it at (after it listens); until then nobody routes to it. */
  join(url: string): Promise<void>;
  /** Leaves the cluster, aborts runs (keeping their partial replies) and writes every registry. */
  close(): Promise<void>;
  /**
   * Settles once the runs a killed process left on this data dir are marked interrupted in their
   * transcripts (waiting at most `RECOVERY_WAIT_MS`; not at all in a cluster, where the dead
   * process's leases must expire first): main.ts starts serving after it, so the first answers
   * already show them. Runs of those sessions wait for their marking in any case.
   */
  recovered(): Promise<void>;
}

/** Longest a start waits for marking the runs a killed process left behind; what is left continues in the background. */
const RECOVERY_WAIT_MS = 10_000;

function redisRelay(url: string, logger: Logger, limits: RunManagerLimits, memberId: string, keyPrefix: string | undefined): RunEventRelay {
  return lazyRunRelay(async () => {
    const { createRedisRunRelay } = await import("./runs/adapters/redis/redis-run-relay");
    return createRedisRunRelay({ url, logger, retentionMs: limits.retentionMs, runTimeoutMs: limits.runTimeoutMs, memberId, keyPrefix });
  });
}

function redisReaper(url: string, logger: Logger, limits: RunManagerLimits, memberId: string, keyPrefix: string | undefined): RunReaper {
  return lazyRunReaper(async () => {
    const { createRedisRunReaper } = await import("./runs/adapters/redis/redis-run-reaper");
    return createRedisRunReaper({ url, logger, retentionMs: limits.retentionMs, memberId, keyPrefix });
  });
}

/** Idempotency keys shared in Redis, imported only in a cluster (like the relay). */
function redisIdempotency(url: string, logger: Logger, keyPrefix: string | undefined): IdempotencyKeys {
  return lazyIdempotencyKeys(async () => {
    const { createRedisIdempotencyKeys } = await import("./coordination/adapters/redis-idempotency");
    return createRedisIdempotencyKeys({ url, logger, keyPrefix });
  });
}

/** Run slots counted in Redis, imported only in a cluster. */
function redisSlots(url: string, logger: Logger, keyPrefix: string | undefined): ClusterSlots {
  return lazyClusterSlots(async () => {
    const { createRedisClusterSlots } = await import("./runs/adapters/redis/redis-cluster-slots");
    return createRedisClusterSlots({ url, logger, keyPrefix });
  });
}

function redisLeases(url: string, memberId: string, logger: Logger, keyPrefix: string | undefined): Leases {
  return lazyLeases(async () => {
    const { createRedisLeases } = await import("./coordination/adapters/redis-leases");
    return createRedisLeases({ url, memberId, logger, keyPrefix });
  });
}

function redisRegistryVersions(url: string, logger: Logger, keyPrefix: string | undefined): RegistryVersions {
  return lazyRegistryVersions(async () => {
    const { createRedisRegistryVersions } = await import("./coordination/adapters/redis-registry-versions");
    return createRedisRegistryVersions({ url, logger, keyPrefix });
  });
}

/** The composition root: builds stores, providers, run manager and the HTTP app from options. */
export function createGateway(options: GatewayOptions): Gateway {
  const { config, logger } = options;
  const now = options.now ?? (() => new Date());
  const newId = options.newId ?? randomUUID;
  const startedAt = Date.now();
  const metrics = createGatewayMetrics({ ...(config.metrics ?? NO_METRICS_ACCESS), logger });
  const locks = options.locks ?? createFileLocks({ logger, ownerDir: lockOwnersDirPath(config.dataDir) });
  const memberId = options.memberId ?? options.membership?.memberId ?? newMemberId();
  const keyPrefix = options.redisKeyPrefix ?? config.redisKeyPrefix;
  // Cluster mode (REDIS_URL): runs hold their session's lease in Redis, with fencing tokens.
  const leases = options.leases ?? (config.redisUrl ? redisLeases(config.redisUrl, memberId, logger, keyPrefix) : undefined);
  // ...and session registries keep their version there, so other gateways catch up without trusting stat().
  const registryVersions = options.registryVersions ?? (config.redisUrl ? redisRegistryVersions(config.redisUrl, logger, keyPrefix) : undefined);
  // What is cached about a tenant's files; erasure forgets all of it (createTenantErasure below).
  const checkDataDir = createDataDirGuard(options.dataDir);
  const tenantRoots = new TenantRoots(config.dataDir, undefined, checkDataDir);
  const tenantConfigs = new TenantConfigCache();
  const policies = createTenantPolicies({
    dataDir: config.dataDir,
    tenantRoots,
    defaults: config.tenantDefaults ?? DEFAULT_TENANT_LIMITS,
    // `disk` is built next, from the policies; a push only happens once both exist.
    onBytesChanged: (tenantId, bytes) => disk.changed(tenantId, bytes),
  });
  const disk = createDiskUsage({ dataDir: config.dataDir, policies, logger, ...options.disk });
  const systemPrompts = new SystemPromptCache();
  const agents = createAgentStore({
    disk,
    dataDir: config.dataDir,
    locks,
    leases,
    now,
    tenantRoots,
    configs: tenantConfigs,
    checkDataDir,
    onAgentChanged: (tenantId, slug) => systemPrompts.forgetAgent(tenantId, slug),
  });
  const sessions = createSessionStore({ dataDir: config.dataDir, logger, now, locks, leases, registryVersions, tenantRoots, disk, registryCacheSize: config.registryCacheSize, ...options.registry });
  const routeModel = createModelRouter({
    defaultModel: config.defaultModel,
    offline: createOfflineProvider({ tokenDelayMs: config.offlineTokenDelayMs }),
    anthropic: options.providers?.anthropic,
    openaiCompatible: options.providers?.openaiCompatible,
    organisation: options.providers?.organisation,
  });
  const loopDeps = { tenantRoots, systemPrompts, sessions, tools: options.tools ?? createWorkspaceTools(), runTools: combineToolSources(options.runToolSources ?? [], logger), logger, now, newId, maxSteps: 8, maxOutputTokens: 4096, compaction: options.compaction, disk };
  const journal = createUsageJournal({ dataDir: config.dataDir, locks, logger, onBytesChanged: disk.changed, tenantRoots });
  const metering = createMetering({ journal, policies, now, logger, maxOutputTokens: loopDeps.maxOutputTokens });
  const limits: RunManagerLimits = {
    maxConcurrentRuns: config.maxConcurrentRuns,
    maxQueuedPerSession: 64,
    maxQueuedTotal: 10_000,
    runTimeoutMs: config.runTimeoutMs,
    retentionMs: 15 * 60_000,
    ...(config.retainedRuns ? { maxRetainedRuns: config.retainedRuns } : {}),
    ...options.limits,
  };
  const relay =
    options.relay ??
    (config.redisUrl ? redisRelay(config.redisUrl, logger, limits, memberId, keyPrefix) : undefined);
  const idempotency = options.idempotency ?? (config.redisUrl ? redisIdempotency(config.redisUrl, logger, keyPrefix) : undefined);
  const slots = options.slots ?? (config.redisUrl ? redisSlots(config.redisUrl, logger, keyPrefix) : undefined);
  const reaper = options.reaper ?? (config.redisUrl ? redisReaper(config.redisUrl, logger, limits, memberId, keyPrefix) : undefined);
  // Runs a killed process of this data dir left unfinished end run_interrupted; this one's are journaled likewise.
  const inFlight = options.inFlight ?? createInFlightJournal({ dataDir: config.dataDir, logger });
  const interrupted = createInterruptedRuns({
    dataDir: config.dataDir,
    journal: inFlight,
    sessions,
    logger,
    now,
    newId,
    retentionMs: limits.retentionMs,
    leaseTimeoutMs: limits.runTimeoutMs,
    // Cluster mode: followers on other gateways see the end too.
    onInterrupted: async (run) => {
      await reaper?.interrupt(run.runId).catch((error: unknown) => logger.warn(`run ${run.runId}: could not end it for other gateways (${error instanceof Error ? error.message : String(error)})`));
    },
  });
  reaper?.onReaped((run) => interrupted.adopt(run));
  const membership =
    options.membership ??
    (config.redisUrl
      ? lazyRedisMembership({ url: config.redisUrl, keyPrefix: keyPrefix, memberId, logger, ttlMs: options.memberTtlMs, now })
      : createLocalMembership(memberId, now));
  const runs = createRunManager({
    agents,
    sessions: waitingForInterruptedRuns({ sessions, now, newId, logger }, interrupted),
    inFlight,
    interrupted,
    routeModel,
    execute: (run) => (run.heartbeat ? runHeartbeat(loopDeps, run) : runAgentTurn(loopDeps, run)),
    logger,
    logContext: options.logContext,
    now,
    limits,
    policies,
    relay,
    idempotency,
    slots,
    observer: options.tracer && options.logContext ? observeAll(metrics.runs, runTracing(options.tracer, options.logContext)) : metrics.runs,
    // Every run passes here, whatever its entry point: the disk quota, then the monthly token budget.
    admit: composeAdmissions(
      async (request) => {
        await disk.admitRun(request.tenantId, request.policy);
        return NOTHING_HELD;
      },
      (request) => metering.admit(request),
    ),
  });
  metrics.watch({ loads: () => runs.loads(), registryCache: () => sessions.cacheStats() });
  let defaultModel: ModelInfo;
  try {
    defaultModel = routeModel(null).info;
  } catch {
    defaultModel = { provider: "openai-compatible", id: config.defaultModel, offline: false };
  }
  // A lost TENANT_DATA_DIR turns health unhealthy (503 storage_unavailable) instead of "ok".
  const health = (): GatewayHealth => {
    checkDataDir();
    return {
      status: "ok",
      service: "gateway",
      version: GATEWAY_VERSION,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      dataDir: { path: options.dataDir.path, instanceId: options.dataDir.instanceId },
      model: defaultModel,
    };
  };
  const authFailures = new AuthFailureLimiter(options.authFailureLimits ?? DEFAULT_AUTH_FAILURE_LIMITS);
  // What is cached about a tenant's files: erasure and restore forget all of it.
  const forgetCached = (tenantId: string) => {
    tenantRoots.forget(tenantId);
    tenantConfigs.forget(tenantId);
    policies.forget(tenantId);
    disk.forget(tenantId);
    systemPrompts.forgetTenant(tenantId);
  };
  const submitRun =
    membership.clustered && leases
      ? forwardingSubmit({ runs, sessions, leases, membership, hookToken: config.hookToken, logger, logContext: options.logContext })
      : localSubmit(runs);
  const app = createGatewayApp({
    titles: createSessionTitler({ agents, sessions, routeModel, journal, now, logger }),
    mcpProbe: options.mcpProbe,
    heartbeatFiles: createHeartbeatFiles({ agents, tenantRoots, disk }),
    readAttachment: async (tenantId, agent, ref) => readAttachment((await tenantRoots.ensure(tenantId)).paths.agent(agent), ref),
    removeAttachment: async (tenantId, agent, ref) => disk.changed(tenantId, -(await removeAttachment((await tenantRoots.ensure(tenantId)).paths.agent(agent), ref))),
    agents,
    sessions,
    runs,
    submitRun,
    capabilities: options.capabilities,
    membership,
    logger,
    logContext: options.logContext,
    tracer: options.tracer,
    policies,
    journal,
    disk,
    eraseTenant: createTenantErasure({
      dataDir: config.dataDir,
      runs,
      sessions,
      logger,
      forgetCached,
    }),
    backup: {
      dataDir: config.dataDir,
      sessions,
      logger,
      restoreTenant: createTenantRestore({
        dataDir: config.dataDir,
        logger,
        forgetTenant: async (tenantId) => {
          await sessions.forgetTenant(tenantId);
          forgetCached(tenantId);
        },
      }),
    },
    hookToken: config.hookToken,
    checkModel: (model) => void routeModel(model),
    models: createModelCatalogue({
      defaultModel,
      anthropic: options.providers?.anthropic,
      openaiCompatible: options.providers?.openaiCompatible,
      onListFailed: (source, error) => logger.warn(`the ${source} provider's model list could not be read: ${error instanceof Error ? error.message : String(error)}`),
    }),
    health,
    // Not ready from the first step of close() (leaving the membership), not only once runs are aborted.
    readiness: createReadiness({ dataDir: options.dataDir, runs: { load: () => ({ ...runs.load(), ...(shuttingDown ? { closing: true } : {}) }) }, maxQueuedTotal: limits.maxQueuedTotal }),
    heartbeatMs: options.heartbeatMs,
    clientAddress: options.clientAddress,
    authFailures,
    metrics,
  });
  let shuttingDown = false;
  const websocket = createWsGateway({ agents, sessions, runs, submitRun, logger, logContext: options.logContext, tracer: options.tracer, hookToken: config.hookToken, authFailures });
  return {
    app,
    agents,
    sessions,
    runs,
    policies,
    metering,
    disk,
    websocket,
    defaultModel,
    metrics,
    async recovered() {
      // In a cluster the dead process's session leases live on in Redis until they expire (the
      // marking waits for them) while the other gateways serve: no reason to hold this one back.
      if (config.redisUrl) return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([interrupted.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, RECOVERY_WAIT_MS)))]);
      clearTimeout(timer);
    },
    membership,
    join: (url) => membership.join(url),
    async close() {
      shuttingDown = true;
      // First out of the membership, so the platform stops sending here while the runs wind down.
      await membership.leave();
      websocket.close();
      await runs.close();
      await reaper?.close();
      await interrupted.close();
      await inFlight.close();
      await metering.flush();
      journal.close();
      await relay?.close();
      await idempotency?.close();
      await slots?.close();
      await sessions.flushAll();
      await leases?.close();
      await registryVersions?.close();
      locks.close();
    },
  };
}
