/**
 * Time to first token and total time of a streamed reply at concurrency 1: straight to the fake
 * upstream, through a trivial hop, through the gateway, and through platform + gateway (on PGlite,
 * and on the Postgres server when one answers). The paths are interleaved run by run so drift
 * (other processes, CPU frequency) hits each alike.
 */
import type { BenchContext, LatencyRow } from "../lib/context";
import { summarize } from "../lib/stats";
import { completed, type Target } from "../lib/targets";

export async function measureLatency(context: BenchContext, targets: Target[]): Promise<LatencyRow[]> {
  const { options } = context;
  const samples = new Map(targets.map((target) => [target.name, { ttft: [] as number[], total: [] as number[], errors: 0 }]));
  const total = options.latencyWarmup + options.latencyRuns;
  for (let index = 0; index < total; index += 1) {
    const sessionKey = `latency-s${Math.floor(index / options.messagesPerSession)}`;
    for (const target of targets) {
      const result = await target.send(`Latency probe number ${index}: how are you today?`, sessionKey, { timeoutMs: 30_000 });
      if (index < options.latencyWarmup) continue;
      const bucket = samples.get(target.name)!;
      if (!completed(result, target.name) || result.ttftMs === undefined) {
        bucket.errors += 1;
        continue;
      }
      bucket.ttft.push(result.ttftMs);
      bucket.total.push(result.totalMs);
    }
  }
  return targets.map((target) => {
    const bucket = samples.get(target.name)!;
    return { target: target.name, ttft: summarize(bucket.ttft), total: summarize(bucket.total), errors: bucket.errors };
  });
}
