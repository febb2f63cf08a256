/** The only logging surface inside the gateway; the CLI decides where lines go. Never pass secrets. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, error?: unknown): void;
}

/** Writes plain prefixed lines to stdout/stderr. */
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
