import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type PlatformConfig } from "../../config";
import { CliError, type CliContext } from "../../cli/cli-command";
import type { ServiceEndpoints } from "./service-clients";

/** The flags every backup command takes; everything else comes from the platform's environment. */
export const SERVICE_OPTIONS = {
  "gateway-url": { type: "string" },
  "platform-url": { type: "string" },
  "database-url": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export const SERVICE_HELP = `Reads the platform's environment: CLAWDBOT_GATEWAY_URL and CLAWDBOT_HOOK_TOKEN (the token
both services accept from the CLI), DATABASE_URL / DATABASE_MIGRATION_URL or PGLITE_DATA_DIR, PORT.
  --gateway-url <url>    the gateway (default CLAWDBOT_GATEWAY_URL)
  --platform-url <url>   the running platform (default http://127.0.0.1:$PORT)
  --database-url <url>   Postgres login for pg_dump / psql (default DATABASE_MIGRATION_URL, then
                         DATABASE_URL); must be a superuser or BYPASSRLS role`;

type Values = Record<string, string | boolean | undefined>;

/** Parses a backup command's arguments: its own options plus the service flags; a usage error quotes the help. */
export function parse(args: string[], options: NonNullable<Parameters<typeof parseArgs>[0]>["options"], help: string): { values: Values; positionals: string[] } {
  try {
    const parsed = parseArgs({ args, options: { ...SERVICE_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: parsed.values, positionals: parsed.positionals };
  } catch (error) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${help}`);
  }
}

export interface BackupSettings {
  config: PlatformConfig;
  endpoints: ServiceEndpoints;
  /** Postgres only: the login pg_dump and psql use. */
  postgresUrl: string | undefined;
}

export function backupSettings(values: Values, context: CliContext): BackupSettings {
  let config: PlatformConfig;
  try {
    config = loadConfig(context.env, context.homeDir);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message);
    throw error;
  }
  const text = (value: string | boolean | undefined) => (typeof value === "string" ? value : undefined);
  return {
    config,
    endpoints: {
      gatewayUrl: text(values["gateway-url"]) ?? config.gatewayUrl,
      platformUrl: text(values["platform-url"]) ?? `http://127.0.0.1:${config.port}`,
      hookToken: config.hookToken,
    },
    postgresUrl: text(values["database-url"]) ?? config.databaseMigrationUrl ?? config.databaseUrl,
  };
}
