import { prettyFactory } from "pino-pretty";

export interface ServiceLineOptions {
  /** A person reads the output (a TTY): print each record as pino-pretty does. Otherwise JSON lines. */
  pretty: boolean;
  color: boolean;
  now?: () => Date;
}

function parseRecord(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value) && "msg" in value ? (value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How the launcher (`npm start`) passes on a child service's line: pretty for a person at a
 * terminal, and JSON otherwise, where a line that is not a log record (Node's own crash report, a
 * build tool) is wrapped into one, so that every line of the output is JSON.
 */
export function serviceLineFormatter(options: ServiceLineOptions): (service: string, line: string, fromStderr: boolean) => string {
  const pretty = options.pretty ? prettyFactory({ colorize: options.color, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname,service" }) : undefined;
  const now = options.now ?? (() => new Date());
  return (service, line, fromStderr) => {
    const record = parseRecord(line);
    if (pretty) return record ? pretty(record).replace(/\n$/, "") : line;
    if (record) return line;
    return JSON.stringify({ level: fromStderr ? "error" : "info", time: now().toISOString(), service, msg: line });
  };
}
