import { ERROR_CODES, type RunEvent } from "@workforce/protocol";
import { Counter, Histogram, type Registry, type TenantLabels } from "@workforce/metrics";
import { errorText, type Logger } from "../logger";
import type { ObservedRun, RunObserver } from "../runs/run-observer";

/** Time to first token: a fast provider answers in a few hundred ms, a loaded one in seconds. */
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 20, 30];
/** Whole runs: one quick reply to many tool round trips, up to the run timeout (10 min). */
const DURATION_BUCKETS = [0.25, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600];

const KNOWN_CODES = new Set<string>(ERROR_CODES);

/** What is remembered of a run between its run-start and its run-end. */
interface LiveRun {
  startedAt: number;
  firstOutputSeen: boolean;
}

/**
 * The run metrics, fed by the run manager's observer interface (never called from the run
 * manager directly): runs started, completed, failed by error code, aborted and paused, tokens used,
 * time to first token and run duration by provider. Times are measured from the run's start
 * (its slot in the scheduler), so they tell the provider and the agent loop apart from queueing,
 * which `workforce_runs_waiting` shows.
 */
export function createRunMetrics(registry: Registry, tenants: TenantLabels, logger: Logger, clock: () => number = () => performance.now()): RunObserver {
  const perTenant = (names: string[]) => [...names, ...tenants.labelNames()];
  const started = new Counter({ name: "workforce_runs_started_total", help: "Runs that started executing, by provider", labelNames: perTenant(["provider"]), registers: [registry] });
  const completed = new Counter({ name: "workforce_runs_completed_total", help: "Runs that ended successfully, by provider", labelNames: perTenant(["provider"]), registers: [registry] });
  const failed = new Counter({
    name: "workforce_runs_failed_total",
    help: "Runs that ended with an error, by provider and error code (codes outside the protocol's list count as other)",
    labelNames: perTenant(["provider", "code"]),
    registers: [registry],
  });
  const aborted = new Counter({ name: "workforce_runs_aborted_total", help: "Runs aborted by a client, by provider", labelNames: perTenant(["provider"]), registers: [registry] });
  const paused = new Counter({
    name: "workforce_runs_paused_total",
    help: "Runs that stopped at a tool call waiting for a member's approval, by provider",
    labelNames: perTenant(["provider"]),
    registers: [registry],
  });
  const tokens = new Counter({
    name: "workforce_tokens_total",
    help: "Model tokens used by runs, by provider and kind (input, output)",
    labelNames: perTenant(["provider", "kind"]),
    registers: [registry],
  });
  const ttft = new Histogram({
    name: "workforce_run_ttft_seconds",
    help: "Time from a run's start to its first output (text or tool call), by provider",
    labelNames: ["provider"],
    buckets: TTFT_BUCKETS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: "workforce_run_duration_seconds",
    help: "Time from a run's start to its end, by provider and status (ok, error, aborted, paused)",
    labelNames: ["provider", "status"],
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const live = new Map<string, LiveRun>();

  function ended(run: ObservedRun, event: Extract<RunEvent, { type: "run-end" }>): void {
    const provider = run.model.info.provider;
    const labels = { provider, ...tenants.labels(run.tenantId) };
    if (event.status === "ok") completed.inc(labels);
    else if (event.status === "aborted") aborted.inc(labels);
    else if (event.status === "paused") paused.inc(labels);
    else failed.inc({ ...labels, code: event.error && KNOWN_CODES.has(event.error.code) ? event.error.code : "other" });
    tokens.inc({ ...labels, kind: "input" }, event.usage.inputTokens);
    tokens.inc({ ...labels, kind: "output" }, event.usage.outputTokens);
    const state = live.get(run.runId);
    live.delete(run.runId);
    if (state) duration.observe({ provider, status: event.status }, (clock() - state.startedAt) / 1000);
  }

  function observe(run: ObservedRun, event: RunEvent): void {
    switch (event.type) {
      case "run-start":
        live.set(run.runId, { startedAt: clock(), firstOutputSeen: false });
        started.inc({ provider: run.model.info.provider, ...tenants.labels(run.tenantId) });
        return;
      case "text-delta":
      case "tool-call-start": {
        const state = live.get(run.runId);
        if (!state || state.firstOutputSeen) return;
        state.firstOutputSeen = true;
        ttft.observe({ provider: run.model.info.provider }, (clock() - state.startedAt) / 1000);
        return;
      }
      case "run-end":
        ended(run, event);
        return;
      default:
        return;
    }
  }

  let failedOnce = false;
  return {
    runEvent(run, event) {
      // A metric must never break a run: the observer is called on the run's own path.
      try {
        observe(run, event);
      } catch (error) {
        if (!failedOnce) logger.warn(`run metrics could not be recorded (${errorText(error)}); the runs are not affected`);
        failedOnce = true;
      }
    },
  };
}
