import { AsyncLocalStorage } from "node:async_hooks";

/** What a log line says about where it comes from; every field optional, only known ones are written. */
export interface LogFields {
  requestId?: string;
  tenantId?: string;
  userId?: string;
  runId?: string;
  /** The current span's trace and span ids when tracing is on: lines name their trace, calls onward carry it. */
  traceId?: string;
  spanId?: string;
  [field: string]: unknown;
}

/**
 * The fields of the request (or run) being served, carried across awaits so that every line logged
 * while serving it names it, without threading a logger through each call. One per service, built
 * at start-up and handed to the logger and the request middleware.
 */
export interface LogContext {
  /** Runs `work` with `fields` as the current context (a copy: `annotate` inside does not leak out). */
  run<T>(fields: LogFields, work: () => T): T;
  /** The current fields, if inside `run`. */
  current(): LogFields | undefined;
  /** Adds fields to the current context once they are known (the tenant after authentication). */
  annotate(fields: LogFields): void;
}

export function createLogContext(): LogContext {
  const storage = new AsyncLocalStorage<LogFields>();
  return {
    run: (fields, work) => storage.run({ ...withoutUndefined(fields) }, work),
    current: () => storage.getStore(),
    annotate: (fields) => {
      const store = storage.getStore();
      if (store) Object.assign(store, withoutUndefined(fields));
    },
  };
}

/** Drops undefined values, so `{ tenantId: undefined }` neither writes nor hides a field. */
export function withoutUndefined(fields: LogFields): LogFields {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}
