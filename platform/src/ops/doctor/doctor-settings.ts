import path from "node:path";
import { ConfigError, loadConfig } from "../../config";
import { fail, pass, type CheckResult, type DoctorContext } from "./doctor-check";

/** What the checks look at: the platform's configuration, plus the gateway's own variables. */
export interface DoctorSettings {
  port: number;
  host: string;
  gatewayUrl: string;
  hookToken: string | undefined;
  tenantDataDir: string;
  databaseUrl: string | undefined;
  /** The tables' owner (DATABASE_MIGRATION_URL), who sees the migrations and RLS flags; default databaseUrl. */
  migrationUrl: string | undefined;
  pgliteDataDir: string;
  publicUrl: string;
  redisUrl: string | undefined;
  anthropic: { apiKey: string; baseUrl: string } | undefined;
  openai: { apiKey: string; baseUrl: string } | undefined;
}

const nonEmpty = (value: string | undefined) => (value === undefined || value.trim() === "" ? undefined : value);

function providers(env: DoctorContext["env"]): Pick<DoctorSettings, "anthropic" | "openai" | "redisUrl"> {
  const anthropicKey = nonEmpty(env.ANTHROPIC_API_KEY);
  const openaiKey = nonEmpty(env.OPENAI_API_KEY);
  return {
    redisUrl: nonEmpty(env.REDIS_URL),
    anthropic: anthropicKey ? { apiKey: anthropicKey, baseUrl: nonEmpty(env.ANTHROPIC_BASE_URL) ?? "https://api.anthropic.com" } : undefined,
    openai: openaiKey ? { apiKey: openaiKey, baseUrl: nonEmpty(env.OPENAI_BASE_URL) ?? "https://api.openai.com/v1" } : undefined,
  };
}

/**
 * The settings, and the check that the platform's configuration is valid at all. When it is not,
 * the other checks still run on the raw values (with the platform's defaults), so one bad
 * variable does not hide the rest.
 */
export function resolveSettings(context: DoctorContext): { settings: DoctorSettings; check: CheckResult } {
  const { env, homeDir } = context;
  try {
    const config = loadConfig(env, homeDir);
    return {
      settings: {
        port: config.port,
        host: config.host,
        gatewayUrl: config.gatewayUrl,
        hookToken: config.hookToken,
        tenantDataDir: config.tenantDataDir,
        databaseUrl: config.databaseUrl,
        migrationUrl: config.databaseMigrationUrl ?? config.databaseUrl,
        pgliteDataDir: config.pgliteDataDir,
        publicUrl: config.publicUrl,
        ...providers(env),
      },
      check: pass("configuration", "the platform's environment variables are valid"),
    };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const port = Number(env.PORT ?? 3000);
    return {
      settings: {
        port: Number.isInteger(port) ? port : 3000,
        host: nonEmpty(env.HOST) ?? "127.0.0.1",
        gatewayUrl: (nonEmpty(env.CLAWDBOT_GATEWAY_URL) ?? "http://127.0.0.1:18789").replace(/\/+$/, ""),
        hookToken: nonEmpty(env.CLAWDBOT_HOOK_TOKEN),
        tenantDataDir: nonEmpty(env.TENANT_DATA_DIR) ?? path.join(homeDir, ".workforce", "tenants"),
        databaseUrl: nonEmpty(env.DATABASE_URL),
        migrationUrl: nonEmpty(env.DATABASE_MIGRATION_URL) ?? nonEmpty(env.DATABASE_URL),
        pgliteDataDir: nonEmpty(env.PGLITE_DATA_DIR) ?? path.join(homeDir, ".workforce", "db"),
        publicUrl: nonEmpty(env.PUBLIC_URL) ?? `http://localhost:${env.PORT ?? 3000}`,
        ...providers(env),
      },
      check: fail("configuration", error.problems.join("; "), "correct the variables named above (`npm start -- --help` lists them all), then run doctor again"),
    };
  }
}
