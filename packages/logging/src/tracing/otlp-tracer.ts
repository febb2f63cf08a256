import { randomBytes } from "node:crypto";
import type { Logger } from "../logger";
import type { Span, SpanAttributes, SpanContext, SpanKind, Tracer, TracingSettings } from "./trace-context";

/** OTLP's enum values (opentelemetry/proto/trace/v1/trace.proto). */
const KIND = { internal: 1, server: 2, client: 3 } as const;
const STATUS_ERROR = 2;
/** Spans beyond this many waiting are dropped (a collector that is down must not grow the heap). */
const MAX_QUEUE = 2_048;
const EXPORT_TIMEOUT_MS = 10_000;

interface OtlpAttribute {
  key: string;
  value: { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };
}

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status?: { code: number; message: string };
}

function attribute(key: string, value: string | number | boolean): OtlpAttribute {
  if (typeof value === "string") return { key, value: { stringValue: value } };
  if (typeof value === "boolean") return { key, value: { boolValue: value } };
  return Number.isInteger(value) ? { key, value: { intValue: String(value) } } : { key, value: { doubleValue: value } };
}

/** Wall-clock now in nanoseconds, as OTLP/JSON wants (a decimal string: it exceeds 2^53). */
function nowNanos(): string {
  return (BigInt(Math.round((performance.timeOrigin + performance.now()) * 1_000)) * 1_000n).toString();
}

/**
 * A tracer exporting over OTLP/HTTP with the JSON encoding, written here rather than taken from
 * the OpenTelemetry SDK (decision 022): our spans are few and made by hand, and the SDK's exporter
 * brings the protobuf runtime and a context manager that our esbuild bundles do not need.
 */
export function createOtlpTracer(settings: TracingSettings, logger: Logger): Tracer {
  let queue: OtlpSpan[] = [];
  let failing = false;
  let inFlight: Promise<void> = Promise.resolve();
  const resource = { attributes: [attribute("service.name", settings.serviceName), attribute("telemetry.sdk.name", "workforce")] };

  async function send(spans: OtlpSpan[]): Promise<void> {
    const body = JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ scope: { name: "workforce" }, spans }] }] });
    try {
      const response = await fetch(settings.url, {
        method: "POST",
        headers: { ...settings.headers, "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(EXPORT_TIMEOUT_MS),
      });
      await response.body?.cancel();
      if (!response.ok) throw new Error(`the collector answered ${response.status}`);
      if (failing) logger.info("tracing: exporting spans again", { url: settings.url });
      failing = false;
    } catch (error) {
      // Once per outage, not once per batch; the headers (credentials) are never part of it.
      if (!failing) logger.warn(`tracing: could not export ${spans.length} spans to ${settings.url} (${error instanceof Error ? error.message : String(error)})`);
      failing = true;
    }
  }

  function flush(): Promise<void> {
    const spans = queue;
    queue = [];
    if (spans.length > 0) inFlight = inFlight.then(() => send(spans));
    return inFlight;
  }

  const timer = setInterval(() => void flush(), settings.scheduleDelayMs);
  timer.unref();

  function startSpan(name: string, options: { kind: SpanKind; parent?: SpanContext | undefined; attributes?: SpanAttributes }): Span {
    const context: SpanContext = { traceId: options.parent?.traceId ?? randomBytes(16).toString("hex"), spanId: randomBytes(8).toString("hex") };
    const startTimeUnixNano = nowNanos();
    const attributes: SpanAttributes = { ...options.attributes };
    let ended = false;
    const span: Span = {
      context,
      name,
      setAttributes: (more) => Object.assign(attributes, more),
      end: (error) => {
        if (ended) return;
        ended = true;
        if (queue.length >= MAX_QUEUE) return;
        queue.push({
          ...context,
          ...(options.parent ? { parentSpanId: options.parent.spanId } : {}),
          name: span.name,
          kind: KIND[options.kind],
          startTimeUnixNano,
          endTimeUnixNano: nowNanos(),
          attributes: Object.entries(attributes).flatMap(([key, value]) => (value === undefined ? [] : [attribute(key, value)])),
          ...(error ? { status: { code: STATUS_ERROR, message: error } } : {}),
        });
      },
    };
    return span;
  }

  return { startSpan, flush };
}
