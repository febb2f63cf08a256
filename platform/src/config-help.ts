/**
 * Every environment variable the platform reads, with its default and meaning: printed by
 * `--help` (the platform's and `npm start`'s), and a test keeps the README's configuration table
 * naming each of them.
 */
export interface EnvHelp {
  name: string;
  default: string;
  description: string;
}

export const PLATFORM_ENV_HELP: readonly EnvHelp[] = [
  { name: "PORT", default: "3000", description: "port of the platform API and web app" },
  { name: "HOST", default: "127.0.0.1", description: "interface to bind; containers set 0.0.0.0 (then PUBLIC_URL is required and the safe defaults below apply)" },
  { name: "PUBLIC_URL", default: "http://localhost:PORT on loopback", description: "the address browsers use: token issuer and every link in a mail" },
  { name: "DATABASE_URL", default: "embedded PGlite", description: "Postgres connection string the platform logs in with (best a role that owns no tables)" },
  { name: "DATABASE_MIGRATION_URL", default: "DATABASE_URL", description: "the tables' owner, used only to migrate" },
  { name: "PGLITE_DATA_DIR", default: "~/.workforce/db", description: "the embedded database, when DATABASE_URL is unset" },
  { name: "CLAWDBOT_GATEWAY_URL", default: "http://127.0.0.1:18789", description: "where the platform reaches the gateway" },
  { name: "CLAWDBOT_HOOK_TOKEN", default: "unset", description: "bearer token for the gateway; must equal the gateway's" },
  { name: "REDIS_URL", default: "unset", description: "the gateways' Redis: route each session's messages to its gateway among the live ones (else all go to CLAWDBOT_GATEWAY_URL)" },
  { name: "REDIS_KEY_PREFIX", default: "workforce:", description: "namespace of the Redis keys; the gateways' value" },
  { name: "GATEWAY_WAIT_MS", default: "15000", description: "how long start-up waits for the gateway" },
  { name: "TENANT_DATA_DIR", default: "~/.workforce/tenants", description: "absolute; must be the gateway's (checked at start-up)" },
  { name: "LOG_LEVEL", default: "info", description: "lowest level of the JSON log lines on stdout (pretty on a terminal): fatal, error, warn, info, debug, trace or silent" },
  { name: "WEB_DIST_DIR", default: "platform/web/dist", description: "the built web app" },
  { name: "WORKFORCE_SIGNUP", default: "open on loopback, invite beyond", description: "who may create an account: open, invite, domains or closed" },
  { name: "WORKFORCE_SIGNUP_DOMAINS", default: "unset", description: "comma-separated domains for WORKFORCE_SIGNUP=domains" },
  { name: "WORKFORCE_EMAIL_CONFIRMATION", default: "optional on loopback, required beyond", description: "required: sign-in only once the address is confirmed" },
  { name: "WORKFORCE_DEFAULT_MONTHLY_TOKENS", default: "unlimited on loopback, 1000000 beyond", description: "every new organisation's monthly token budget, or 'unlimited'" },
  { name: "WORKFORCE_USAGE_INGEST_MS", default: "5000", description: "how often usage the gateway journaled (every entry point) is read into the database" },
  { name: "WORKFORCE_APPROVAL_TIMEOUT_MINUTES", default: "60", description: "how long a tool call in `ask` mode waits for a member's decision before it is denied" },
  { name: "WORKFORCE_TENANT_MAX_CONCURRENT_RUNS", default: "4", description: "an organisation's runs executing at once per gateway, unless the operator set its own (same as the gateway's)" },
  { name: "WORKFORCE_TENANT_MAX_QUEUED_RUNS", default: "200", description: "an organisation's runs waiting per gateway before 429 tenant_queue_full, unless the operator set its own" },
  { name: "WORKFORCE_TENANT_DISK_MB", default: "2048", description: "an organisation's disk quota in MB under TENANT_DATA_DIR, unless the operator set its own; 0: none" },
  { name: "WORKFORCE_API_REQUESTS_PER_MINUTE", default: "600", description: "requests a minute per API key and per user in an organisation" },
  { name: "WORKFORCE_API_MAX_STREAMS", default: "20", description: "open chat and run streams per API key and per user in an organisation" },
  { name: "WORKFORCE_SESSION_IDLE_DAYS", default: "14", description: "a sign-in ends after this many days without use" },
  { name: "WORKFORCE_SESSION_MAX_DAYS", default: "90", description: "a sign-in ends after this many days at the latest" },
  { name: "WORKFORCE_CORS_ORIGINS", default: "none", description: "comma-separated browser origins (a web app served from a CDN) that may call /api and /auth/v1, or *" },
  { name: "WORKFORCE_TRUST_PROXY", default: "0", description: "reverse proxies in front that set X-Forwarded-For (rate limits count the client behind them)" },
  { name: "WORKFORCE_SECRET_KEY", default: "key file", description: "master key for secrets at rest: 32 bytes, base64 (openssl rand -base64 32); the same for every platform process" },
  { name: "WORKFORCE_SECRET_KEY_PREVIOUS", default: "unset", description: "during a master-key rotation: the old key, for decrypting only (then `workforce secrets rotate-master-key`)" },
  { name: "WORKFORCE_SECRET_KEY_FILE", default: "~/.workforce/secret.key", description: "the master key file when WORKFORCE_SECRET_KEY is unset (created once; back it up)" },
  { name: "SMTP_URL", default: "unset: local outbox", description: "smtp://user:pass@host:587 or smtps://…:465 for invitations, confirmations and resets" },
  { name: "WORKFORCE_MAIL_FROM", default: "Workforce <no-reply@localhost>", description: "From of every mail" },
  { name: "WORKFORCE_OUTBOX_DIR", default: "~/.workforce/outbox", description: "where mails are kept without SMTP_URL (shown at /outbox on this machine)" },
  { name: "SUPABASE_URL", default: "unset: embedded auth", description: "hosted Supabase auth instead of the embedded one" },
  { name: "SUPABASE_ANON_KEY", default: "unset", description: "handed to the web app for hosted Supabase" },
  { name: "SUPABASE_SERVICE_KEY", default: "unset", description: "accepted; not used yet" },
  { name: "SUPABASE_JWT_SECRET", default: "unset", description: "accept the project's legacy HS256 tokens" },
  { name: "COMPOSIO_API_KEY", default: "unset: no Composio apps", description: "Composio project API key: organisations connect apps (GitHub, Gmail, …) and give agents their tools" },
  { name: "COMPOSIO_BASE_URL", default: "https://backend.composio.dev", description: "Composio's API endpoint" },
  { name: "WORKFORCE_PLATFORM_KEY_FALLBACK", default: "true", description: "a model provider an organisation has no own key for uses the operator's key; false: its runs are refused (model_key_required)" },
  { name: "METRICS_TOKEN", default: "unset: /metrics answers 404", description: "bearer token Prometheus presents for GET /metrics (at least 16 characters)" },
  { name: "METRICS_PORT", default: "unset", description: "serve /metrics alone on this port (no token needed there unless METRICS_TOKEN is set)" },
  { name: "METRICS_BIND", default: "127.0.0.1", description: "the interface of the METRICS_PORT listener (0.0.0.0 in a container)" },
  { name: "WORKFORCE_OUTBOUND_ALLOW_PRIVATE", default: "false", description: "true: URLs organisations register (MCP servers, model base URLs) may point to private addresses" },
  { name: "WORKFORCE_OUTBOUND_ALLOW_HOSTS", default: "unset", description: "comma-separated hosts, host:port, addresses or CIDR ranges that may be reached although private (e.g. 127.0.0.1:11434)" },
  { name: "OTEL_EXPORTER_OTLP_ENDPOINT", default: "unset: no tracing", description: "OpenTelemetry collector (OTLP/HTTP, JSON): spans go to <it>/v1/traces" },
  { name: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", default: "unset", description: "the full traces URL, overriding OTEL_EXPORTER_OTLP_ENDPOINT" },
  { name: "OTEL_EXPORTER_OTLP_HEADERS", default: "unset", description: "key=value,… headers of each export (a collector's API key; never logged)" },
  { name: "OTEL_SERVICE_NAME", default: "platform", description: "service.name of the spans" },
  { name: "OTEL_BSP_SCHEDULE_DELAY", default: "5000", description: "longest wait between span exports, in ms" },
];

/** The variables as an aligned text table, for `--help`. */
export function formatEnvHelp(entries: readonly EnvHelp[]): string {
  const width = Math.max(...entries.map((entry) => entry.name.length));
  return entries.map((entry) => `  ${entry.name.padEnd(width)}  ${entry.description} (default: ${entry.default})`).join("\n");
}
