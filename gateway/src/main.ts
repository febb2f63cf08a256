import { parseArgs } from "node:util";
import { startMetricsServer, type MetricsServer } from "@workforce/metrics";
import { ConfigError, defaultAdvertiseUrl, loadConfig, type GatewayConfig } from "./config";
import { prepareDataDir } from "./data-dir";
import { errnoCode } from "./fs/errno";
import { createGateway, GATEWAY_VERSION } from "./gateway";
import { createOrganisationModelProviders, createProviders } from "./llm/create-providers";
import { createRunToolSources } from "./tools/run-tool-sources";
import { startTracing } from "@workforce/logging";
import { createGuardedFetch } from "@workforce/net-guard";
import type { LogContext, Logger } from "./logger";
import { startServer } from "./server/start-server";

const USAGE = `Usage: gateway run [--port 18789] [--bind 127.0.0.1]

Environment:
  TENANT_DATA_DIR          absolute directory for all tenant data (default ~/.workforce/tenants)
  CLAWDBOT_HOOK_TOKEN      shared secret the platform sends (required to bind beyond loopback)
  ANTHROPIC_API_KEY        use Claude; without it agents answer with the offline model
  ANTHROPIC_BASE_URL       alternative Anthropic endpoint
  WORKFORCE_DEFAULT_MODEL  model for agents that name none ("offline", a Claude id, "openai:<model>")
  OPENAI_BASE_URL, OPENAI_API_KEY   OpenAI-compatible provider for "openai:<model>" agents
  OFFLINE_MODEL_DELAY_MS   delay between offline tokens (default 15)
  WORKFORCE_RUN_TIMEOUT_MS       longest a run may take (default 600000)
  WORKFORCE_MAX_CONCURRENT_RUNS  runs executing at once across all tenants (default 16)
  WORKFORCE_REGISTRY_CACHE       agent session registries kept in memory once idle (default 1000)
  REDIS_URL                optional; cluster mode: membership and run relay with the other gateways sharing TENANT_DATA_DIR (redis://host:6379)
  REDIS_KEY_PREFIX         namespace of the Redis keys (default workforce:)
  GATEWAY_ADVERTISE_URL    where the platform and other gateways reach this one (default http://127.0.0.1:<port> on loopback, else http://<hostname>:<port>)
  METRICS_TOKEN            bearer token for GET /metrics (Prometheus); unset, /metrics answers 404
  METRICS_PORT, METRICS_BIND     serve /metrics alone on this port and interface (default bind 127.0.0.1)
  METRICS_TENANT_LABELS    1: per-tenant labels on run, token and queue metrics (first 50 tenants, then "other")
  WORKFORCE_OUTBOUND_ALLOW_PRIVATE  true: web tools and other integrations may reach private addresses (default false)
  WORKFORCE_OUTBOUND_ALLOW_HOSTS    hosts, host:port, addresses or CIDRs they may reach although private (comma list)
  WEB_SEARCH_PROVIDER      brave or searxng: the web_search tool's provider (unset: no web search)
  WEB_SEARCH_API_KEY, WEB_SEARCH_URL   Brave's subscription token; the SearXNG instance (or another Brave endpoint)
  WEB_FETCH_INFO_URL       the page web_fetch's User-Agent (WorkforceBot) points site owners to
  LOG_LEVEL                fatal, error, warn, info (default), debug, trace or silent: JSON lines on stdout
                           (pretty on a terminal), each request's with its X-Request-Id
  OTEL_EXPORTER_OTLP_ENDPOINT    OpenTelemetry collector (OTLP/HTTP JSON): spans to <it>/v1/traces; unset, no tracing
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_SERVICE_NAME, OTEL_BSP_SCHEDULE_DELAY
                           the full traces URL, export headers (k=v,…), service.name (gateway), export interval ms

Several gateways may serve one TENANT_DATA_DIR (shared storage): see docs/gateway-api.md.`;

function describeModel(config: GatewayConfig, offline: boolean): string {
  return offline ? `offline (built-in; set ANTHROPIC_API_KEY for ${config.defaultModel})` : config.defaultModel;
}

/** `gateway run`: validate config, prepare the data dir, serve until SIGINT/SIGTERM. */
export async function main(argv: string[], env: Record<string, string | undefined>, logger: Logger, logContext?: LogContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { port: { type: "string" }, bind: { type: "string" }, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    logger.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const command = parsed.positionals[0];
  if (parsed.values.help || command === undefined) {
    console.log(USAGE);
    return command === undefined && !parsed.values.help ? 2 : 0;
  }
  if (command !== "run") {
    logger.error(`unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  try {
    const config = loadConfig(env, { port: parsed.values.port, bind: parsed.values.bind });
    const dataDir = await prepareDataDir(config.dataDir);
    const tracer = await startTracing(config.tracing, logger);
    // Tenants aim these connections (their MCP servers, web pages): only where the operator's outbound policy allows.
    const outboundFetch = createGuardedFetch(config.outbound);
    const toolSources = createRunToolSources({ config, logger, version: GATEWAY_VERSION, fetch: outboundFetch });
    const gateway = createGateway({
      config,
      dataDir,
      logger,
      logContext,
      tracer,
      providers: { ...createProviders(config), organisation: createOrganisationModelProviders(config.outbound) },
      runToolSources: toolSources.sources,
      capabilities: toolSources.capabilities,
      mcpProbe: toolSources.mcpProbe,
    });
    await gateway.recovered();
    const server = await startServer(gateway.app, config.port, config.bind, (request, socket, head) =>
      gateway.websocket.handleUpgrade(request, socket, head),
    );
    // Only now does it have a port (--port 0 picks one): others reach it at this URL from here on.
    const advertiseUrl = config.advertiseUrl ?? defaultAdvertiseUrl(config.bind, server.address.port);
    await gateway.join(advertiseUrl);
    const { access } = config.metrics;
    let metricsServer: MetricsServer | undefined;
    if (access.port !== undefined) {
      metricsServer = await startMetricsServer(gateway.metrics.registry, { ...access, port: access.port }).catch(async (error: unknown) => {
        await gateway.close();
        await server.close();
        throw errnoCode(error) === "EADDRINUSE" ? new ConfigError([`METRICS_PORT ${access.port} is already in use; choose a free port`]) : error;
      });
    }
    logger.info(
      `listening on ${server.url} · data dir ${dataDir.path} (instance ${dataDir.instanceId}) · model ${describeModel(config, gateway.defaultModel.offline)} · auth ${config.hookToken ? "token" : "off (loopback only)"}${config.redisUrl ? ` · cluster member ${gateway.membership.memberId} at ${advertiseUrl}` : ""}${metricsServer ? ` · metrics ${metricsServer.url}/metrics` : access.token ? " · metrics /metrics (token)" : ""}`,
      { url: server.url, dataDir: dataDir.path, instanceId: dataDir.instanceId },
    );
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        logger.info(`${signal} received, shutting down`);
        resolve();
      };
      process.once("SIGINT", () => stop("SIGINT"));
      process.once("SIGTERM", () => stop("SIGTERM"));
    });
    await gateway.close();
    await toolSources.close();
    await outboundFetch.close();
    await server.close();
    await metricsServer?.close();
    await tracer?.flush();
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      logger.error(`cannot start:\n  - ${error.problems.join("\n  - ")}`);
      return 1;
    }
    if (errnoCode(error) === "EADDRINUSE") {
      logger.error(`cannot start: port ${parsed.values.port ?? 18789} is already in use. Fix: stop the other process or pass --port <free port>.`);
      return 1;
    }
    logger.error("cannot start", error);
    return 1;
  }
}

