/**
 * Fair scheduling (issue 11): tenant A floods the gateway with concurrent runs while tenant B
 * sends one message at a time. B's time to first token under the flood is compared with B's TTFT
 * on the idle system, measured in the same run with the same gateway, half before the flood and
 * half after it (so drift in the machine's load hits the baseline as it hits the flood). The gateway runs its
 * default limits (WORKFORCE_MAX_CONCURRENT_RUNS 16, 4 runs per tenant) except the tenant queue,
 * raised so that all of A's runs are accepted and wait rather than being refused.
 */
import type { BenchContext, FairnessResult } from "../lib/context";
import { summarize } from "../lib/stats";
import { startBenchSystem } from "../lib/system";
import { completed, createGatewayAgent, failureOf, gatewayTarget, type Target } from "../lib/targets";

/** B's messages one after another; TTFTs of the completed ones (after `warmup`), while `keepGoing` holds. */
async function sendOneAtATime(target: Target, count: number, warmup: number, keyPrefix: string, keepGoing: () => boolean) {
  const ttft: number[] = [];
  const errors: Record<string, number> = {};
  for (let index = 0; index < warmup + count && keepGoing(); index += 1) {
    const result = await target.send(`Tenant B, message ${index}: a short question.`, `${keyPrefix}-${Math.floor(index / 10)}`, { timeoutMs: 120_000 });
    if (index < warmup) continue;
    if (completed(result, target.name) && result.ttftMs !== undefined) ttft.push(result.ttftMs);
    else errors[failureOf(result)] = (errors[failureOf(result)] ?? 0) + 1;
  }
  return { ttft, errors };
}

function mergeCounts(...counts: Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const count of counts) for (const [key, value] of Object.entries(count)) merged[key] = (merged[key] ?? 0) + value;
  return merged;
}

export async function measureFairness(context: BenchContext): Promise<FairnessResult> {
  const { options, log } = context;
  const system = await startBenchSystem({
    fake: { tokens: options.tokens, tokenDelayMs: options.tokenDelayMs },
    withPlatform: false,
    // The defaults spelled out (the bench system lifts tenant limits for the other phases).
    gatewayEnv: { WORKFORCE_MAX_CONCURRENT_RUNS: "16", WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: "4", WORKFORCE_TENANT_MAX_QUEUED_RUNS: String(options.fairnessFlood) },
  });
  try {
    const tenantA = gatewayTarget(system.gateway.url, await createGatewayAgent(system.gateway.url, system.hookToken, "Flooder"));
    const tenantB = gatewayTarget(system.gateway.url, await createGatewayAgent(system.gateway.url, system.hookToken, "Neighbour"));
    const half = Math.ceil(options.fairnessSamples / 2);
    const idleBefore = await sendOneAtATime(tenantB, half, options.latencyWarmup, "idle-before", () => true);
    log(`  B idle: TTFT median ${summarize(idleBefore.ttft).median.toFixed(2)} ms over ${idleBefore.ttft.length} messages`);

    // A's runs all at once, each in its own session (nothing serialises them but the scheduler).
    let floodDone = false;
    let aCompleted = 0;
    const aErrors: Record<string, number> = {};
    const floodStarted = performance.now();
    const opened: Promise<void>[] = [];
    const flood = Promise.all(
      Array.from({ length: options.fairnessFlood }, (_, index) => {
        let markOpen: () => void = () => undefined;
        opened.push(new Promise<void>((resolve) => (markOpen = resolve)));
        return tenantA.send(`Tenant A, flood message ${index}.`, `flood-${index}`, { timeoutMs: 600_000, onOpen: () => markOpen() }).then((result) => {
          markOpen();
          if (completed(result, tenantA.name)) aCompleted += 1;
          else aErrors[failureOf(result)] = (aErrors[failureOf(result)] ?? 0) + 1;
        });
      }),
    ).then(() => {
      floodDone = true;
    });
    // B starts once every flood request has been accepted (queued or running), so it queues behind all of them.
    await Promise.all(opened);
    const aCompletedBeforeB = aCompleted;
    const loaded = await sendOneAtATime(tenantB, options.fairnessSamples, 0, "loaded", () => !floodDone);
    const floodOutlastedB = !floodDone;
    const aCompletedDuringB = aCompleted - aCompletedBeforeB;
    const bSeconds = (performance.now() - floodStarted) / 1000;
    await flood;
    const floodSeconds = (performance.now() - floodStarted) / 1000;
    const idleAfter = await sendOneAtATime(tenantB, half, 0, "idle-after", () => true);
    const idle = { ttft: [...idleBefore.ttft, ...idleAfter.ttft], errors: mergeCounts(idleBefore.errors, idleAfter.errors) };
    const result: FairnessResult = {
      flood: options.fairnessFlood,
      idle: summarize(idle.ttft),
      loaded: summarize(loaded.ttft),
      bErrors: mergeCounts(idle.errors, loaded.errors),
      aCompleted,
      aCompletedDuringB,
      aErrors,
      bSeconds,
      floodSeconds,
      floodOutlastedB,
    };
    log(
      `  B under A's flood of ${result.flood}: TTFT median ${result.loaded.median.toFixed(2)} ms over ${result.loaded.n} messages ` +
        `(ratio ${(result.loaded.median / result.idle.median).toFixed(2)}); A completed ${aCompleted} runs in ${floodSeconds.toFixed(1)} s, ${aCompletedDuringB} of them while B was measured`,
    );
    return result;
  } finally {
    await system.stop();
  }
}
