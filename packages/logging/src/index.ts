export { createLogContext, type LogContext, type LogFields } from "./log-context";
export { createLogger, LOG_LEVELS, withFields, type Logger, type LoggerOptions, type LogLevel, type ServiceLogger } from "./logger";
export { createRedactor, REDACTED, type Redactor } from "./redaction";
export { REQUEST_ID_HEADER, requestIdFrom } from "./request-id";
export { DRAIN_OVERSIZED_BYTES, limitBody } from "./body-limit";
export { requestLogging, routeTemplate, type RequestLoggingOptions } from "./request-logging";
export { serviceLineFormatter, type ServiceLineOptions } from "./service-lines";
export {
  formatTraceparent,
  parseTraceparent,
  spanContextOf,
  startTracing,
  TRACEPARENT_HEADER,
  TRACING_ENV,
  tracingSettingsFrom,
  type Span,
  type SpanContext,
  type Tracer,
  type TracingSettings,
} from "./tracing/trace-context";
