import { metricsAccessFrom, type MetricsAccess } from "@workforce/metrics";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LOG_LEVELS, tracingSettingsFrom, type LogLevel, type TracingSettings } from "@workforce/logging";
import { outboundPolicyFromEnv, PUBLIC_ONLY, type OutboundPolicy } from "@workforce/net-guard";
import { z } from "zod";
import { COMPOSIO_DEFAULT_BASE_URL, DEFAULT_REDIS_KEY_PREFIX } from "@workforce/protocol";
import type { EmailConfirmation } from "./auth/auth-service";
import type { SessionLifetimes } from "./auth/auth-sessions";
import type { SignupPolicy } from "./auth/signup-policy";
import type { TenantLimitDefaults } from "./tenant-limits/tenant-limits";
import { readClientAddressConfig, type ClientAddressConfig } from "./http/client-address";
import { parseCorsOrigins, type CorsOrigins } from "./http/cors-policy";
import { API_LIMIT_DEFAULTS, type ApiLimits } from "./limits/api-limits";
import { readMailConfig, type MailConfig } from "./mail/mail-config";
import { readSecretKeyConfig, type SecretKeyConfig } from "./secrets/secret-key-config";

/** Platform configuration, read once from the environment at start-up and handed down. */
export interface PlatformConfig {
  /** PORT: where the API listens (default 3000). */
  port: number;
  /** HOST: interface to bind (default 127.0.0.1; containers set 0.0.0.0). */
  host: string;
  /** Whether HOST is a loopback address: the safe defaults below depend on it. */
  loopbackOnly: boolean;
  /** DATABASE_URL: Postgres connection string the application logs in with; unset means embedded PGlite. */
  databaseUrl: string | undefined;
  /**
   * DATABASE_MIGRATION_URL: the tables' owner, for migrations; default DATABASE_URL. Lets the
   * application log in as a role that owns no tables (and go through a pooler) while migrations
   * connect directly as the owner, as Supabase setups expect.
   */
  databaseMigrationUrl: string | undefined;
  /** PGLITE_DATA_DIR: absolute directory of the embedded database (default ~/.workforce/db). */
  pgliteDataDir: string;
  /**
   * The migrated PGlite database a new PGLITE_DATA_DIR starts as a copy of, made by `npm run build`
   * (<repo>/platform/dist/pglite-template). When it is missing or out of date, PGlite runs initdb.
   */
  pgliteTemplateDir: string;
  /** CLAWDBOT_GATEWAY_URL: base URL of the gateway (default http://127.0.0.1:18789). */
  gatewayUrl: string;
  /**
   * REDIS_URL (and REDIS_KEY_PREFIX): the gateways' cluster membership. Set, a session's messages
   * go to the gateway picked by rendezvous hashing over the live members (decision 027);
   * unset, everything goes to CLAWDBOT_GATEWAY_URL.
   */
  redis: { url: string; keyPrefix: string } | undefined;
  /** CLAWDBOT_HOOK_TOKEN: sent to the gateway as a Bearer token when set. */
  hookToken: string | undefined;
  /** Who may scrape `/metrics` (METRICS_TOKEN; METRICS_PORT and METRICS_BIND for a listener of its own). */
  metrics: MetricsAccess;
  /** Where spans are exported (OTEL_EXPORTER_OTLP_*); undefined: tracing is off and not loaded. */
  tracing: TracingSettings | undefined;
  /** LOG_LEVEL: the lowest level of the JSON log lines on stdout (default info). */
  logLevel: LogLevel;
  /** GATEWAY_WAIT_MS: how long start-up waits for the gateway to answer (default 15000). */
  gatewayWaitMs: number;
  /** WORKFORCE_USAGE_INGEST_MS: how often the gateway's usage journals are read into usage_events (default 5000). */
  usageIngestMs: number;
  /** WORKFORCE_APPROVAL_TIMEOUT_MINUTES: how long a tool call in `ask` mode waits for a decision before it is denied (default 60). */
  approvalTimeoutMinutes: number;
  /** TENANT_DATA_DIR: absolute tenant data directory; must be the gateway's (default ~/.workforce/tenants). */
  tenantDataDir: string;
  /** WEB_DIST_DIR: the built web app (default <repo>/platform/web/dist). */
  webDistDir: string;
  /**
   * PUBLIC_URL: the origin browsers use, for links in mails and the token issuer. Required when
   * HOST is not loopback; default http://localhost:PORT. Never taken from a request's Host header.
   */
  publicUrl: string;
  /** WORKFORCE_SIGNUP and WORKFORCE_SIGNUP_DOMAINS: who may create an account (default open on loopback, invite beyond). */
  signup: SignupPolicy;
  /** WORKFORCE_EMAIL_CONFIRMATION: whether an unconfirmed address may sign in (default optional on loopback, required beyond). */
  emailConfirmation: EmailConfirmation;
  /** WORKFORCE_DEFAULT_MONTHLY_TOKENS: every new organisation's budget; null for none (default none on loopback, 1,000,000 beyond). */
  defaultMonthlyTokens: number | null;
  /**
   * WORKFORCE_TENANT_MAX_CONCURRENT_RUNS, WORKFORCE_TENANT_MAX_QUEUED_RUNS, WORKFORCE_TENANT_DISK_MB:
   * every organisation's limits where the operator set none (the gateway's variables of the same
   * names are its fallback for organisations it was never told about; keep them equal).
   */
  tenantDefaults: TenantLimitDefaults;
  /**
   * WORKFORCE_API_REQUESTS_PER_MINUTE (default 600) and WORKFORCE_API_MAX_STREAMS (default 20):
   * each API key's and each user's requests a minute and open streams in an organisation, unless
   * the organisation has its own limits.
   */
  apiLimits: ApiLimits;
  /** WORKFORCE_SESSION_IDLE_DAYS, WORKFORCE_SESSION_MAX_DAYS: how long a sign-in lasts without use, and at most. */
  sessionLifetimes: SessionLifetimes;
  /** SMTP_URL, WORKFORCE_MAIL_FROM, WORKFORCE_OUTBOX_DIR. */
  mail: MailConfig;
  /** WORKFORCE_SECRET_KEY or WORKFORCE_SECRET_KEY_FILE: the master key that encrypts secrets at rest (tenant secrets, signing keys), and WORKFORCE_SECRET_KEY_PREVIOUS. */
  secretKey: SecretKeyConfig;
  /** WORKFORCE_TRUST_PROXY: how many reverse proxies in front set X-Forwarded-For (rate limits count the client behind them). */
  clientAddress: ClientAddressConfig;
  /** SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_KEY, SUPABASE_JWT_SECRET: hosted Supabase auth instead of the embedded one. */
  supabase: { url: string; anonKey: string | undefined; serviceKey: string | undefined; jwtSecret: string | undefined } | undefined;
  /** COMPOSIO_API_KEY and COMPOSIO_BASE_URL: Composio apps for organisations; undefined without the key (the feature is hidden). */
  composio: { apiKey: string; baseUrl: string } | undefined;
  /**
   * WORKFORCE_PLATFORM_KEY_FALLBACK (default true): a model provider an organisation has no own key
   * for uses the operator's. (Where its base URLs may point is the outbound policy's to say.)
   */
  modelKeys: { platformKeyFallback: boolean };
  /** WORKFORCE_CORS_ORIGINS: browser origins (a web app served from a CDN) that may call /api and /auth/v1; default none, `*` any. */
  corsOrigins: CorsOrigins;
  /**
   * WORKFORCE_OUTBOUND_ALLOW_PRIVATE, WORKFORCE_OUTBOUND_ALLOW_HOSTS: which private addresses URLs an
   * organisation registers (MCP servers, model base URLs) may point to (packages/net-guard, decision 030).
   */
  outbound: OutboundPolicy;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid platform configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

// Both relative to this file's folder: platform/src when run from source, platform/dist when bundled.
const defaultWebDist = fileURLToPath(new URL("../web/dist", import.meta.url));
const defaultPgliteTemplate = fileURLToPath(new URL("../dist/pglite-template", import.meta.url));

const optionalString = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === "" ? undefined : value.trim()));

const httpUrl = (fix: string) =>
  z
    .string()
    .trim()
    .refine((value) => {
      try {
        const url = new URL(value);
        return url.protocol === "http:" || url.protocol === "https:";
      } catch {
        return false;
      }
    }, `must be an http(s) URL; ${fix}`)
    .transform((value) => value.replace(/\/+$/, ""));

const absoluteDir = (name: string) =>
  z
    .string()
    .trim()
    .min(1)
    .refine((value) => path.isAbsolute(value), {
      message: `must be an absolute path (relative paths are resolved differently by each process); e.g. ${name}=$HOME/.workforce/${name === "TENANT_DATA_DIR" ? "tenants" : "db"}`,
    })
    .transform((value) => path.resolve(value));

const days = (name: string, fallback: number) =>
  optionalString
    .transform((value) => (value === undefined ? fallback : Number(value)))
    .pipe(
      z
        .number()
        .refine((value) => Number.isFinite(value) && value > 0, `must be a positive number of days, e.g. ${name}=${fallback}`)
        .refine((value) => value <= 3650, "must be at most 3650 days"),
    );

const wholeNumber = (name: string, fallback: number, min: number, max: number) =>
  optionalString
    .transform((value) => (value === undefined ? fallback : Number(value)))
    .pipe(
      z
        .number({ message: `must be a whole number between ${min} and ${max}, e.g. ${name}=${fallback}` })
        .refine((value) => Number.isInteger(value) && value >= min && value <= max, `must be a whole number between ${min} and ${max}, e.g. ${name}=${fallback}`),
    );
const positiveCount = (name: string, fallback: number, what: string) => {
  const message = `must be a whole number of ${what} from 1 to 1000000, e.g. ${name}=${fallback}`;
  return optionalString
    .pipe(
      z
        .string()
        .regex(/^[0-9]{1,7}$/, message)
        .transform(Number)
        .refine((value) => value >= 1 && value <= 1_000_000, message)
        .optional(),
    )
    .transform((value) => value ?? fallback);
};

const trueOrFalse = (name: string, fallback: boolean) =>
  optionalString
    .pipe(z.enum(["true", "false"], { message: `must be true or false, e.g. ${name}=${String(fallback)}` }).optional())
    .transform((value) => (value === undefined ? fallback : value === "true"));

/** Hosts that only this machine can reach: the defaults of sign-up, confirmation and budgets are relaxed for them. */
export function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535, "must be a port number between 0 and 65535").default(3000),
  HOST: optionalString,
  WORKFORCE_SIGNUP: optionalString.pipe(z.enum(["open", "invite", "domains", "closed"], { message: "must be open, invite, domains or closed" }).optional()),
  WORKFORCE_SIGNUP_DOMAINS: optionalString,
  WORKFORCE_EMAIL_CONFIRMATION: optionalString.pipe(z.enum(["required", "optional"], { message: "must be required or optional" }).optional()),
  WORKFORCE_DEFAULT_MONTHLY_TOKENS: optionalString.pipe(
    z
      .string()
      .regex(/^(unlimited|[0-9]{1,15})$/, "must be a whole number of tokens, e.g. 1000000, or 'unlimited'")
      .transform((value) => (value === "unlimited" ? ("unlimited" as const) : Number(value)))
      .optional(),
  ),
  WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: wholeNumber("WORKFORCE_TENANT_MAX_CONCURRENT_RUNS", 4, 1, 10_000),
  WORKFORCE_TENANT_MAX_QUEUED_RUNS: wholeNumber("WORKFORCE_TENANT_MAX_QUEUED_RUNS", 200, 0, 100_000),
  WORKFORCE_TENANT_DISK_MB: wholeNumber("WORKFORCE_TENANT_DISK_MB", 2_048, 0, 100_000_000),
  WORKFORCE_API_REQUESTS_PER_MINUTE: positiveCount("WORKFORCE_API_REQUESTS_PER_MINUTE", API_LIMIT_DEFAULTS.requestsPerMinute, "requests"),
  WORKFORCE_API_MAX_STREAMS: positiveCount("WORKFORCE_API_MAX_STREAMS", API_LIMIT_DEFAULTS.maxStreams, "streams"),
  WORKFORCE_SESSION_IDLE_DAYS: days("WORKFORCE_SESSION_IDLE_DAYS", 14),
  WORKFORCE_SESSION_MAX_DAYS: days("WORKFORCE_SESSION_MAX_DAYS", 90),
  DATABASE_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://; unset it to use the embedded database")
      .optional(),
  ),
  DATABASE_MIGRATION_URL: optionalString.pipe(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must start with postgres:// or postgresql://; it is the tables' owner, used for migrations")
      .optional(),
  ),
  PGLITE_DATA_DIR: optionalString.pipe(absoluteDir("PGLITE_DATA_DIR").optional()),
  CLAWDBOT_GATEWAY_URL: optionalString.pipe(httpUrl("e.g. CLAWDBOT_GATEWAY_URL=http://127.0.0.1:18789").optional()),
  CLAWDBOT_HOOK_TOKEN: optionalString,
  REDIS_URL: optionalString.pipe(z.string().regex(/^rediss?:\/\/./, "must look like redis://127.0.0.1:6379 (or rediss:// for TLS)").optional()),
  REDIS_KEY_PREFIX: optionalString.pipe(z.string().regex(/^[A-Za-z0-9:._-]{1,64}$/, "must be 1-64 letters, digits or : . _ - (the gateways' value)").optional()),
  LOG_LEVEL: optionalString.pipe(z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(", ")}` }).default("info")),
  GATEWAY_WAIT_MS: z.coerce.number().int().min(0, "must be a number of milliseconds").default(15_000),
  WORKFORCE_USAGE_INGEST_MS: z.coerce.number().int().min(100, "must be at least 100 milliseconds").max(3_600_000, "must be at most an hour (3600000)").default(5_000),
  WORKFORCE_APPROVAL_TIMEOUT_MINUTES: z.coerce.number().int().min(1, "must be at least 1 minute").max(43_200, "must be at most 30 days (43200)").default(60),
  TENANT_DATA_DIR: optionalString.pipe(absoluteDir("TENANT_DATA_DIR").optional()),
  WEB_DIST_DIR: optionalString.pipe(absoluteDir("WEB_DIST_DIR").optional()),
  PUBLIC_URL: optionalString.pipe(httpUrl("e.g. PUBLIC_URL=https://workforce.example.com").optional()),
  SUPABASE_URL: optionalString.pipe(httpUrl("e.g. SUPABASE_URL=https://your-project.supabase.co").optional()),
  SUPABASE_ANON_KEY: optionalString,
  SUPABASE_SERVICE_KEY: optionalString,
  SUPABASE_JWT_SECRET: optionalString,
  COMPOSIO_API_KEY: optionalString,
  COMPOSIO_BASE_URL: optionalString.pipe(httpUrl("e.g. COMPOSIO_BASE_URL=https://backend.composio.dev (the default)").optional()),
  WORKFORCE_PLATFORM_KEY_FALLBACK: trueOrFalse("WORKFORCE_PLATFORM_KEY_FALLBACK", true),
  METRICS_TOKEN: optionalString,
  METRICS_PORT: optionalString
    .refine((value) => value === undefined || (/^\d+$/.test(value) && Number(value) <= 65_535), "must be a port number between 0 and 65535, e.g. METRICS_PORT=9465")
    .transform((value) => (value === undefined ? undefined : Number(value))),
  METRICS_BIND: optionalString,
  WORKFORCE_CORS_ORIGINS: optionalString,
  // Outgoing connections; read and checked by outboundPolicyFromEnv, listed here so the table covers them.
  WORKFORCE_OUTBOUND_ALLOW_PRIVATE: optionalString,
  WORKFORCE_OUTBOUND_ALLOW_HOSTS: optionalString,
  // Tracing (OTLP/HTTP JSON); read and checked by tracingSettingsFrom, listed here so the table covers them.
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalString,
  OTEL_EXPORTER_OTLP_HEADERS: optionalString,
  OTEL_SERVICE_NAME: optionalString,
  OTEL_BSP_SCHEDULE_DELAY: optionalString,
});

/** Every variable the platform's configuration schema reads (the README's table must list each). */
export const PLATFORM_ENV_NAMES: readonly string[] = Object.keys(EnvSchema.shape);

/**
 * Validates the environment once. Every bad variable is reported together, each with the fix,
 * so a misconfigured deployment fails at start-up instead of on the first request.
 */
export function loadConfig(env: Record<string, string | undefined>, homeDir: string = os.homedir()): PlatformConfig {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((issue) => `${issue.path.join(".") || "environment"}: ${issue.message}`));
  }
  const values = parsed.data;
  const problems: string[] = [];
  if (values.DATABASE_MIGRATION_URL && !values.DATABASE_URL) {
    problems.push("DATABASE_MIGRATION_URL: is set but DATABASE_URL is not; set both (the embedded database needs neither)");
  }
  const host = values.HOST ?? "127.0.0.1";
  const loopbackOnly = isLoopbackHost(host);
  if (!loopbackOnly && !values.PUBLIC_URL) {
    problems.push(`PUBLIC_URL: is required when HOST=${host} (beyond this machine): links in mails and the token issuer need the address browsers use, e.g. PUBLIC_URL=https://workforce.example.com`);
  }
  const mode = values.WORKFORCE_SIGNUP ?? (loopbackOnly ? "open" : "invite");
  const domains = (values.WORKFORCE_SIGNUP_DOMAINS ?? "")
    .split(",")
    .map((domain) => domain.trim().toLowerCase().replace(/^@/, ""))
    .filter(Boolean);
  if (mode === "domains" && domains.length === 0) problems.push("WORKFORCE_SIGNUP_DOMAINS: is required with WORKFORCE_SIGNUP=domains, e.g. WORKFORCE_SIGNUP_DOMAINS=example.com,example.org");
  if (domains.some((domain) => !/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(domain))) {
    problems.push("WORKFORCE_SIGNUP_DOMAINS: must be a comma-separated list of domain names, e.g. example.com,example.org");
  }
  const mail = readMailConfig(env, homeDir);
  if (!mail.ok) problems.push(...mail.problems);
  const clientAddress = readClientAddressConfig(env);
  if (!clientAddress.ok) problems.push(...clientAddress.problems);
  const secretKey = readSecretKeyConfig(env, homeDir);
  if (!secretKey.ok) problems.push(...secretKey.problems);
  const cors = parseCorsOrigins(values.WORKFORCE_CORS_ORIGINS);
  if (!cors.ok) problems.push(cors.problem);
  if (values.WORKFORCE_SESSION_MAX_DAYS < values.WORKFORCE_SESSION_IDLE_DAYS) {
    problems.push("WORKFORCE_SESSION_MAX_DAYS: must be at least WORKFORCE_SESSION_IDLE_DAYS");
  }
  const metrics = metricsAccessFrom({ token: values.METRICS_TOKEN, port: values.METRICS_PORT, bind: values.METRICS_BIND });
  problems.push(...metrics.problems);
  if (values.METRICS_PORT !== undefined && values.METRICS_PORT !== 0 && values.METRICS_PORT === values.PORT) {
    problems.push(`METRICS_PORT: ${values.METRICS_PORT} is the platform's own PORT; choose another (e.g. 9465) or unset it and scrape /metrics with METRICS_TOKEN`);
  }
  let tracing: TracingSettings | undefined;
  try {
    tracing = tracingSettingsFrom(env, "platform");
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  let outbound: OutboundPolicy = PUBLIC_ONLY;
  try {
    outbound = outboundPolicyFromEnv(env);
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
  }
  if (problems.length > 0 || !mail.ok || !clientAddress.ok || !secretKey.ok || !cors.ok) throw new ConfigError(problems);
  const budget = values.WORKFORCE_DEFAULT_MONTHLY_TOKENS;
  return {
    port: values.PORT,
    host,
    loopbackOnly,
    signup: { mode, domains },
    // Domain-limited sign-up means nothing until the address is proven.
    emailConfirmation: values.WORKFORCE_EMAIL_CONFIRMATION ?? (loopbackOnly && mode !== "domains" ? "optional" : "required"),
    defaultMonthlyTokens: budget === "unlimited" ? null : (budget ?? (loopbackOnly ? null : 1_000_000)),
    tenantDefaults: {
      maxConcurrentRuns: values.WORKFORCE_TENANT_MAX_CONCURRENT_RUNS,
      maxQueuedRuns: values.WORKFORCE_TENANT_MAX_QUEUED_RUNS,
      diskMb: values.WORKFORCE_TENANT_DISK_MB,
    },
    apiLimits: { requestsPerMinute: values.WORKFORCE_API_REQUESTS_PER_MINUTE, maxStreams: values.WORKFORCE_API_MAX_STREAMS },
    sessionLifetimes: { idleMs: values.WORKFORCE_SESSION_IDLE_DAYS * 86_400_000, maxMs: values.WORKFORCE_SESSION_MAX_DAYS * 86_400_000 },
    mail: mail.config,
    clientAddress: clientAddress.config,
    secretKey: secretKey.config,
    databaseUrl: values.DATABASE_URL,
    databaseMigrationUrl: values.DATABASE_MIGRATION_URL,
    pgliteDataDir: values.PGLITE_DATA_DIR ?? path.join(homeDir, ".workforce", "db"),
    pgliteTemplateDir: defaultPgliteTemplate,
    gatewayUrl: values.CLAWDBOT_GATEWAY_URL ?? "http://127.0.0.1:18789",
    hookToken: values.CLAWDBOT_HOOK_TOKEN,
    redis: values.REDIS_URL ? { url: values.REDIS_URL, keyPrefix: values.REDIS_KEY_PREFIX ?? DEFAULT_REDIS_KEY_PREFIX } : undefined,
    gatewayWaitMs: values.GATEWAY_WAIT_MS,
    metrics: metrics.access,
    tracing,
    logLevel: values.LOG_LEVEL,
    usageIngestMs: values.WORKFORCE_USAGE_INGEST_MS,
    approvalTimeoutMinutes: values.WORKFORCE_APPROVAL_TIMEOUT_MINUTES,
    tenantDataDir: values.TENANT_DATA_DIR ?? path.join(homeDir, ".workforce", "tenants"),
    webDistDir: values.WEB_DIST_DIR ?? defaultWebDist,
    publicUrl: values.PUBLIC_URL ?? `http://localhost:${values.PORT}`,
    supabase: values.SUPABASE_URL
      ? {
          url: values.SUPABASE_URL,
          anonKey: values.SUPABASE_ANON_KEY,
          serviceKey: values.SUPABASE_SERVICE_KEY,
          jwtSecret: values.SUPABASE_JWT_SECRET,
        }
      : undefined,
    composio: values.COMPOSIO_API_KEY ? { apiKey: values.COMPOSIO_API_KEY, baseUrl: values.COMPOSIO_BASE_URL ?? COMPOSIO_DEFAULT_BASE_URL } : undefined,
    modelKeys: { platformKeyFallback: values.WORKFORCE_PLATFORM_KEY_FALLBACK },
    corsOrigins: cors.origins,
    outbound,
  };
}
