/**
 * The only logging surface inside the gateway; cli.ts builds the real one (pino JSON lines on
 * stdout, see @workforce/logging) and hands it down. Never pass secrets.
 */
import type { Logger } from "@workforce/logging";

export { requestLogging, withFields, type LogContext, type LogFields, type Logger } from "@workforce/logging";

/** Writes plain prefixed lines to stdout/stderr: for tests and tools that read them as text. */
export function createConsoleLogger(prefix = "[gateway]"): Logger {
  return {
    info: (message) => console.log(`${prefix} ${message}`),
    warn: (message) => console.warn(`${prefix} ${message}`),
    error: (message, error) => {
      if (error === undefined) console.error(`${prefix} ${message}`);
      else console.error(`${prefix} ${message}`, error instanceof Error ? (error.stack ?? error.message) : error);
    },
  };
}

/** Discards everything; for callers that really want silence. */
export const silentLogger: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** One line about a failure for the log: an Error's message, or the value itself. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === "string" ? error : JSON.stringify(error) ?? "undefined";
}
