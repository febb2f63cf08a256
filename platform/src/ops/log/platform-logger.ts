import { createLogger, LOG_LEVELS, type LogContext, type Logger, type ServiceLogger } from "@workforce/logging";
import type { DestinationStream } from "pino";

/** Variables whose values are secret: never written, wherever they would appear in a line. */
const SECRET_VARIABLES = [
  "CLAWDBOT_HOOK_TOKEN",
  "WORKFORCE_SECRET_KEY",
  "WORKFORCE_SECRET_KEY_PREVIOUS",
  "SUPABASE_SERVICE_KEY",
  "SUPABASE_JWT_SECRET",
  "COMPOSIO_API_KEY",
  // Not the platform's, but `npm start` hands both services one environment.
  "ANTHROPIC_API_KEY",
  "OPENAI_API_KEY",
] as const;

/**
 * The platform's logger, built first in main.ts (before the configuration is validated, so that a
 * bad configuration is reported as a log line too): pino JSON on stdout, pretty on a TTY.
 * Passwords in DATABASE_URL / SMTP_URL are caught by the redactor's URL pattern.
 */
export function createPlatformLogger(
  env: Record<string, string | undefined>,
  options: { context: LogContext; pretty: boolean; destination?: DestinationStream },
): ServiceLogger {
  // An invalid LOG_LEVEL is reported by loadConfig, at the default level.
  const level = LOG_LEVELS.find((name) => name === env.LOG_LEVEL?.trim()) ?? "info";
  return createLogger({
    service: "platform",
    level,
    pretty: options.pretty,
    context: options.context,
    secrets: SECRET_VARIABLES.map((name) => env[name]),
    ...(options.destination ? { destination: options.destination } : {}),
  });
}

/** The `logError(message, error)` the platform's modules are handed, writing through the logger. */
export function errorReporter(logger: Logger): (message: string, error: unknown) => void {
  return (message, error) => logger.error(message, error);
}
