import { spanContextOf, type LogContext, type Span, type Tracer } from "@workforce/logging";
import type { RunObserver } from "./run-observer";

/** Hands every run event to each observer in turn (metrics, then tracing). */
export function observeAll(...observers: RunObserver[]): RunObserver {
  return { runEvent: (run, event) => observers.forEach((observer) => observer.runEvent(run, event)) };
}

/**
 * One span per run, from its `run-start` (it got a slot) to its `run-end`, as a child of the
 * request that submitted it: the run manager starts a run inside that request's trace context
 * (decision 022), so the context current at `run-start` names the submitting span.
 */
export function runTracing(tracer: Tracer, context: LogContext): RunObserver {
  const open = new Map<string, Span>();
  return {
    runEvent(run, event) {
      if (event.type === "run-start") {
        const span = tracer.startSpan("run", {
          kind: "internal",
          parent: spanContextOf(context.current()),
          attributes: {
            "workforce.run_id": run.runId,
            "workforce.tenant_id": run.tenantId,
            "workforce.agent": run.agent,
            "workforce.provider": event.model.provider,
            "workforce.model": event.model.id,
          },
        });
        open.set(run.runId, span);
        // The run's own lines from here on name the run's span.
        context.annotate({ spanId: span.context.spanId });
      } else if (event.type === "run-end") {
        const span = open.get(run.runId);
        if (!span) return;
        open.delete(run.runId);
        span.setAttributes({
          "workforce.run.status": event.status,
          "workforce.error_code": event.error?.code,
          "gen_ai.usage.input_tokens": event.usage.inputTokens,
          "gen_ai.usage.output_tokens": event.usage.outputTokens,
        });
        span.end(event.error?.code);
      }
    },
  };
}
