import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";

/**
 * The configuration `npm start` hands to both services. Resolved once, here, so the gateway and
 * the platform always see the same absolute TENANT_DATA_DIR (the guide's "I have no name" bug came
 * from the two disagreeing).
 */
export interface EmbeddedConfig {
  /** Platform port (PORT). */
  port: number;
  /** Where the gateway listens, taken from CLAWDBOT_GATEWAY_URL. */
  gatewayHost: string;
  gatewayPort: number;
  gatewayUrl: string;
  tenantDataDir: string;
  /** PGlite directory; unused when DATABASE_URL is set. */
  pgliteDataDir: string;
  /** Where mails go without SMTP_URL (WORKFORCE_OUTBOX_DIR), next to the database. */
  outboxDir: string;
  /** The master key file when WORKFORCE_SECRET_KEY is unset (WORKFORCE_SECRET_KEY_FILE), next to the database. */
  secretKeyFile: string;
  /** SMTP_URL is set: mails are sent, not kept in the outbox. */
  smtp: boolean;
  databaseUrl: string | undefined;
  hookToken: string;
  /** True when the hook token was generated for this run rather than configured. */
  hookTokenGenerated: boolean;
  /** Notes for the user about defaults that were filled in. */
  notes: string[];
}

export class ConfigError extends Error {}

/** Default root for embedded data: user-writable on Linux and macOS alike (not /data, which macOS refuses). */
export function defaultDataRoot(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_DATA_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, "workforce");
  return path.join(os.homedir(), ".workforce");
}

function resolveDir(name: string, value: string | undefined, fallback: string, cwd: string, notes: string[]): string {
  if (value === undefined || value.trim() === "") return fallback;
  if (path.isAbsolute(value)) return path.resolve(value);
  const absolute = path.resolve(cwd, value);
  notes.push(`${name}="${value}" is relative; using the absolute path ${absolute} for every service`);
  return absolute;
}

function parsePort(name: string, value: string, problems: string[]): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    problems.push(`${name}="${value}" is not a TCP port (1-65535). Fix: export ${name}=3000`);
    return 0;
  }
  return port;
}

export function resolveEmbeddedConfig(env: NodeJS.ProcessEnv, cwd: string): EmbeddedConfig {
  const problems: string[] = [];
  const notes: string[] = [];
  const root = defaultDataRoot(env);

  const port = parsePort("PORT", env.PORT ?? "3000", problems);

  const rawGatewayUrl = env.CLAWDBOT_GATEWAY_URL ?? "http://127.0.0.1:18789";
  let gatewayHost = "127.0.0.1";
  let gatewayPort = 18789;
  try {
    const url = new URL(rawGatewayUrl);
    if (url.protocol !== "http:") throw new Error("only http:// is supported for the local gateway");
    gatewayHost = url.hostname === "localhost" ? "127.0.0.1" : url.hostname.replace(/^\[|\]$/g, "");
    gatewayPort = url.port ? parsePort("CLAWDBOT_GATEWAY_URL port", url.port, problems) : 80;
  } catch (error) {
    problems.push(
      `CLAWDBOT_GATEWAY_URL="${rawGatewayUrl}" is not a usable URL (${(error as Error).message}). Fix: export CLAWDBOT_GATEWAY_URL=http://127.0.0.1:18789`,
    );
  }

  const tenantDataDir = resolveDir("TENANT_DATA_DIR", env.TENANT_DATA_DIR, path.join(root, "tenants"), cwd, notes);
  const pgliteDataDir = resolveDir("PGLITE_DATA_DIR", env.PGLITE_DATA_DIR, path.join(root, "db"), cwd, notes);
  const outboxDir = resolveDir("WORKFORCE_OUTBOX_DIR", env.WORKFORCE_OUTBOX_DIR, path.join(root, "outbox"), cwd, notes);
  const secretKeyFile = resolveDir("WORKFORCE_SECRET_KEY_FILE", env.WORKFORCE_SECRET_KEY_FILE, path.join(root, "secret.key"), cwd, notes);

  const configuredToken = env.CLAWDBOT_HOOK_TOKEN?.trim();
  const hookToken = configuredToken || randomBytes(32).toString("base64url");

  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return {
    port,
    gatewayHost,
    gatewayPort,
    gatewayUrl: `http://${gatewayHost.includes(":") ? `[${gatewayHost}]` : gatewayHost}:${gatewayPort}`,
    tenantDataDir,
    pgliteDataDir,
    outboxDir,
    secretKeyFile,
    smtp: Boolean(env.SMTP_URL?.trim()),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    hookToken,
    hookTokenGenerated: !configuredToken,
    notes,
  };
}
