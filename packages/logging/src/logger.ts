import { hostname } from "node:os";
import { pino, stdTimeFunctions, type DestinationStream, type Logger as Pino } from "pino";
import pretty from "pino-pretty";
import type { LogContext, LogFields } from "./log-context";
import { withoutUndefined } from "./log-context";
import { createRedactor, REDACTED } from "./redaction";

/**
 * What code inside a service logs with: a message and, optionally, what it is about (`runId`,
 * `tenantId`, ...) and the error. Plain objects with these three methods are loggers too (tests
 * make their own), so the fields are optional arguments rather than new methods.
 */
export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, error?: unknown, fields?: LogFields): void;
}

/** The logger a service builds at start-up; hands it down as a `Logger`. */
export interface ServiceLogger extends Logger {
  debug(message: string, fields?: LogFields): void;
  /** A logger whose every line carries `fields` too. */
  child(fields: LogFields): ServiceLogger;
  /** Writes out anything buffered (before `process.exit`). */
  flush(): void;
}

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  /** `gateway`, `platform`, `workforce` (the launcher): written on every line. */
  service: string;
  /** LOG_LEVEL; `info` by default. */
  level?: LogLevel;
  /** Human-readable lines (a TTY) instead of JSON. */
  pretty?: boolean;
  /** The request/run context whose fields every line carries. */
  context?: LogContext;
  /** Values that must never be written (the hook token, provider keys, ...): replaced wherever they appear. */
  secrets?: ReadonlyArray<string | undefined>;
  /** Where lines go: stdout by default; tests capture them. */
  destination?: DestinationStream;
}

/** Field names whose values are secret whatever they hold. */
const SECRET_FIELDS = ["password", "token", "authorization", "apiKey", "hookToken", "secret", "cookie"];

/** Builds a service's logger: pino JSON lines on stdout (pretty on a TTY), with context and redaction. */
export function createLogger(options: LoggerOptions): ServiceLogger {
  const redact = createRedactor(options.secrets ?? []);
  const context = options.context;
  const destination =
    options.destination ??
    (options.pretty
      ? pretty({ sync: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" })
      : pino.destination({ dest: 1, sync: true }));
  const root = pino(
    {
      level: options.level ?? "info",
      base: { service: options.service, pid: process.pid, hostname: hostname() },
      timestamp: stdTimeFunctions.isoTime,
      // Level names in JSON ("level":"warn") read better in any log store; pino-pretty wants numbers.
      ...(options.pretty ? {} : { formatters: { level: (label: string) => ({ level: label }) } }),
      ...(context ? { mixin: () => context.current() ?? {} } : {}),
      redact: { paths: SECRET_FIELDS.flatMap((field) => [field, `*.${field}`]), censor: REDACTED },
      hooks: { streamWrite: redact },
    },
    destination,
  );
  return wrap(root);
}

function wrap(instance: Pino): ServiceLogger {
  return {
    debug: (message, fields) => instance.debug(withoutUndefined(fields ?? {}), message),
    info: (message, fields) => instance.info(withoutUndefined(fields ?? {}), message),
    warn: (message, fields) => instance.warn(withoutUndefined(fields ?? {}), message),
    error: (message, error, fields) => instance.error(withoutUndefined({ ...fields, err: error }), message),
    child: (fields) => wrap(instance.child(withoutUndefined(fields))),
    flush: () => instance.flush(),
  };
}

/** Any logger, with `fields` added to each of its lines (a call's own fields win). */
export function withFields(logger: Logger, fields: LogFields): Logger {
  return {
    info: (message, more) => logger.info(message, { ...fields, ...more }),
    warn: (message, more) => logger.warn(message, { ...fields, ...more }),
    error: (message, error, more) => logger.error(message, error, { ...fields, ...more }),
  };
}
