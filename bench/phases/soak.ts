/**
 * Soak: 50 users chatting through platform + gateway for a bounded time on a fresh system.
 * Pass = zero errors, RSS at the end at most 10% above RSS after warm-up (mean of the last 5 s
 * of each; a drop is no leak), and no growth in descriptors, sockets or timers between two quiescent snapshots.
 */
import type { BenchContext, SoakResult } from "../lib/context";
import { chat, meanRssOfLast, quiescentSnapshot } from "../lib/soak";
import { summarize } from "../lib/stats";
import { startBenchSystem } from "../lib/system";
import { createPlatformUser } from "../lib/targets";

export async function runSoak(context: BenchContext): Promise<SoakResult> {
  const { options, log } = context;
  const system = await startBenchSystem({
    fake: { tokens: options.tokens, tokenDelayMs: options.tokenDelayMs },
    probe: true,
    gatewayFlags: ["--expose-gc"],
    platformFlags: ["--expose-gc"],
    // Quiescent snapshots need nothing in flight: no periodic usage ingest (it runs on demand meanwhile).
    // Each user signs up from an address of its own (X-Forwarded-For behind one trusted proxy):
    // sign-ups are limited to 10 an hour per address, and the soak needs more users than that.
    platformEnv: { WORKFORCE_USAGE_INGEST_MS: "3600000", WORKFORCE_TRUST_PROXY: "1" },
  });
  try {
    const platform = system.platform!;
    const users = [];
    for (let index = 0; index < options.soakUsers; index += 1) users.push(await createPlatformUser(platform.url, undefined, { "x-forwarded-for": `10.14.${index >> 8}.${index & 255}` }));
    const watch = [system.gateway, platform];
    const common = { platformUrl: platform.url, users, thinkMs: [50, 250] as [number, number], messagesPerSession: options.messagesPerSession, watch };
    const warm = await chat({ ...common, seconds: options.soakWarmupSeconds, keyPrefix: "soak-warm" });
    const before = await quiescentSnapshot(watch, { databaseDir: system.pgliteDir });
    log(`  warm-up: ${warm.runs} runs, ${JSON.stringify(warm.errors)}; quiescent: ${JSON.stringify(before)}`);
    const soak = await chat({ ...common, seconds: options.soakSeconds, keyPrefix: "soak" });
    const after = await quiescentSnapshot(watch, { databaseDir: system.pgliteDir });
    log(`  soak: ${soak.runs} runs in ${soak.seconds.toFixed(0)} s, errors ${JSON.stringify(soak.errors)}; quiescent: ${JSON.stringify(after)}`);
    const windowSeconds = Math.min(5, Math.max(1, options.soakWarmupSeconds / 2));
    return {
      users: options.soakUsers,
      seconds: soak.seconds,
      runs: soak.runs,
      errors: mergeCounts(warm.errors, soak.errors),
      runsPerSecond: soak.runs / soak.seconds,
      latency: summarize(soak.latencies),
      rssWarm: { gateway: meanRssOfLast(warm.rss.gateway ?? [], windowSeconds), platform: meanRssOfLast(warm.rss.platform ?? [], windowSeconds) },
      rssEnd: { gateway: meanRssOfLast(soak.rss.gateway ?? [], windowSeconds), platform: meanRssOfLast(soak.rss.platform ?? [], windowSeconds) },
      before: { gateway: before.gateway!, platform: before.platform! },
      after: { gateway: after.gateway!, platform: after.platform! },
      rssSeries: {
        gateway: [...(warm.rss.gateway ?? []), ...(soak.rss.gateway ?? []).map((sample) => ({ t: sample.t + warm.seconds + 5.5, rss: sample.rss }))],
        platform: [...(warm.rss.platform ?? []), ...(soak.rss.platform ?? []).map((sample) => ({ t: sample.t + warm.seconds + 5.5, rss: sample.rss }))],
      },
    };
  } finally {
    await system.stop();
  }
}

function mergeCounts(...counts: Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const count of counts) for (const [key, value] of Object.entries(count)) merged[key] = (merged[key] ?? 0) + value;
  return merged;
}
