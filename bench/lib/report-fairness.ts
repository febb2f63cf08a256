/** The fairness section of docs/benchmarks.md (issue 11). */
import type { BenchResults } from "./context";
import { fmt, ratio, type Summary } from "./stats";

/** B's loaded TTFT may be at most this multiple of its idle TTFT (issue 11). */
export const FAIRNESS_TTFT_LIMIT = 1.5;

const ms = (summary: Summary) => `${fmt(summary.median)} / ${fmt(summary.p95)}`;
const errorsOf = (errors: Record<string, number>) => {
  const total = Object.values(errors).reduce((sum, count) => sum + count, 0);
  return total === 0 ? "0" : `${total} (${Object.entries(errors).map(([code, count]) => `${code}: ${count}`).join(", ")})`;
};

export function fairnessSection(results: BenchResults): string[] {
  const f = results.fairness;
  if (!f) return [];
  return [
    "## Fairness between tenants (issue 11)",
    "",
    `Tenant A sends ${f.flood} runs at once (each in its own session) straight to the gateway; tenant B then sends one message at a time ` +
      `(${results.options.tokens} tokens, ${results.options.tokenDelayMs} ms apart). B's time to first token is measured on the idle gateway (half the messages before A's flood, half after it) and under A's flood, ` +
      "in the same run against the same gateway. The gateway runs its default limits (16 runs at once, 4 per tenant); only A's queue bound is raised so that all of A's runs wait instead of being refused with `tenant_queue_full`. " +
      "Times in ms (median / p95).",
    "",
    "| B's TTFT | median / p95 | messages | ratio to idle (median) | errors |",
    "|---|---|---|---|---|",
    `| idle gateway | ${ms(f.idle)} | ${f.idle.n} | baseline | ${errorsOf(f.bErrors)} |`,
    `| under A's flood of ${f.flood} | ${ms(f.loaded)} | ${f.loaded.n} | ${ratio(f.loaded.median, f.idle.median)} (target ≤ ×${FAIRNESS_TTFT_LIMIT}) | |`,
    "",
    `A completed ${f.aCompleted} of ${f.flood} runs in ${fmt(f.floodSeconds, 1)} s (errors: ${errorsOf(f.aErrors)}); ${f.aCompletedDuringB} of them while B's ${f.loaded.n} messages were measured ` +
      `(${fmt(f.bSeconds, 1)} s), ${f.floodOutlastedB ? "so every loaded sample of B was taken while A still had runs waiting or executing" : "and A's flood ended before B's last sample"}.`,
    "",
  ];
}
