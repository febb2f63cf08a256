import type { LogFields } from "../log-context";
import type { Logger } from "../logger";

/** Identifies a span across processes: what a W3C `traceparent` header carries. */
export interface SpanContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
}

export type SpanKind = "internal" | "server" | "client";
export type SpanAttributes = Record<string, string | number | boolean | undefined>;

export interface Span {
  readonly context: SpanContext;
  /** The name can change until the span ends (a request's route is known only once it is routed). */
  name: string;
  setAttributes(attributes: SpanAttributes): void;
  /** Ends it (once; later calls do nothing); `error` marks it failed with that code. */
  end(error?: string): void;
}

export interface Tracer {
  startSpan(name: string, options: { kind: SpanKind; parent?: SpanContext | undefined; attributes?: SpanAttributes }): Span;
  /** Exports what is pending; called on shutdown. */
  flush(): Promise<void>;
}

export const TRACEPARENT_HEADER = "traceparent";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ALL_ZERO = /^0+$/;

/** The caller's span from a `traceparent` header (version 00); undefined when absent or malformed. */
export function parseTraceparent(header: string | undefined): SpanContext | undefined {
  const match = header === undefined ? null : TRACEPARENT.exec(header.trim());
  if (!match?.[1] || !match[2] || ALL_ZERO.test(match[1]) || ALL_ZERO.test(match[2])) return undefined;
  return { traceId: match[1], spanId: match[2] };
}

/** A `traceparent` header naming `context` as the parent (always sampled: we record every trace). */
export function formatTraceparent(context: SpanContext): string {
  return `00-${context.traceId}-${context.spanId}-01`;
}

/** The span context of the current log context (request or run), when tracing put one there. */
export function spanContextOf(fields: LogFields | undefined): SpanContext | undefined {
  return typeof fields?.traceId === "string" && typeof fields.spanId === "string" ? { traceId: fields.traceId, spanId: fields.spanId } : undefined;
}

/** What a service reads to trace (the OTLP exporter variables of the OpenTelemetry specification). */
export interface TracingSettings {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, else OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  url: string;
  serviceName: string;
  /** From OTEL_EXPORTER_OTLP_HEADERS (`k=v,k2=v2`, values URL-encoded): e.g. the collector's API key. */
  headers: Record<string, string>;
  /** OTEL_BSP_SCHEDULE_DELAY: at most this long between exports (ms). */
  scheduleDelayMs: number;
}

/** The tracing variables every service documents (config help, README table). */
export const TRACING_ENV = [
  "OTEL_EXPORTER_OTLP_ENDPOINT",
  "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
  "OTEL_EXPORTER_OTLP_HEADERS",
  "OTEL_SERVICE_NAME",
  "OTEL_BSP_SCHEDULE_DELAY",
] as const;

/** Undefined when neither endpoint is set: tracing is off and nothing of it is loaded. Throws on a bad value. */
export function tracingSettingsFrom(env: Record<string, string | undefined>, defaultServiceName: string): TracingSettings | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!traces && !base) return undefined;
  const url = traces || `${base?.replace(/\/+$/, "")}/v1/traces`;
  if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new Error(`OTEL_EXPORTER_OTLP_ENDPOINT: "${url}" is not an http(s) URL`);
  const delay = env.OTEL_BSP_SCHEDULE_DELAY?.trim();
  const scheduleDelayMs = delay ? Number(delay) : 5_000;
  if (!Number.isInteger(scheduleDelayMs) || scheduleDelayMs < 1) throw new Error("OTEL_BSP_SCHEDULE_DELAY must be a positive whole number of milliseconds");
  return { url, serviceName: env.OTEL_SERVICE_NAME?.trim() || defaultServiceName, headers: headersFrom(env.OTEL_EXPORTER_OTLP_HEADERS), scheduleDelayMs };
}

function headersFrom(value: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const pair of (value ?? "").split(",")) {
    const at = pair.indexOf("=");
    if (at <= 0) continue;
    // Never echo the value in an error: it is usually a credential.
    headers[decodeURIComponent(pair.slice(0, at).trim())] = decodeURIComponent(pair.slice(at + 1).trim());
  }
  return headers;
}

/**
 * Builds the tracer when tracing is configured. The exporter is imported only then, so a service
 * without OTEL_EXPORTER_OTLP_ENDPOINT loads none of it (decision 022).
 */
export async function startTracing(settings: TracingSettings | undefined, logger: Logger): Promise<Tracer | undefined> {
  if (!settings) return undefined;
  const { createOtlpTracer } = await import("./otlp-tracer");
  logger.info(`tracing: spans of ${settings.serviceName} go to ${settings.url} every ${settings.scheduleDelayMs} ms`, { tracesUrl: settings.url });
  return createOtlpTracer(settings, logger);
}
