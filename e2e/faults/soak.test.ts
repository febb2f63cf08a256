/**
 * The short soak (the long one is part of `npm run bench`): 50 chat clients through platform +
 * gateway (real processes, the real Anthropic SDK against the fake upstream) for a few seconds.
 * Zero errors; and between two quiescent moments (nothing in flight, keep-alive connections
 * expired, full GC), after the warm-up and at the end: RSS no more than 10% higher, and no growth
 * in descriptors, sockets or timers.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SoakSnapshot } from "../../bench/lib/context";
import { chat, meanRssOfLast, quiescentSnapshot, type ChatOutcome } from "../../bench/lib/soak";
import { startBenchSystem, type BenchSystem } from "../../bench/lib/system";
import { createPlatformUser, type PlatformUser } from "../../bench/lib/targets";

/** 50 concurrent chat clients over 10 accounts (sign-ups are slow; the bench soak uses 50 accounts). */
const CLIENTS = 50;
const ACCOUNTS = 10;
const WARMUP_SECONDS = 6;
const SOAK_SECONDS = 5;

let system: BenchSystem;
let warm: ChatOutcome;
let soak: ChatOutcome;
let before: Record<string, SoakSnapshot>;
let after: Record<string, SoakSnapshot>;

beforeAll(async () => {
  system = await startBenchSystem({
    fake: { tokens: 12, tokenDelayMs: 5 },
    probe: true,
    gatewayFlags: ["--expose-gc"],
    platformFlags: ["--expose-gc"],
    // The gateway keeps the last N finished runs for replay: RSS is only steady once that bounded
    // set is full, so it must fill during the warm-up (~300+ runs in the warm-up), not during the measured
    // part, or the check would measure the cache filling up (the bench soak, minutes long, keeps the default).
    gatewayEnv: { WORKFORCE_RETAINED_RUNS: "50" },
    // Quiescent means nothing in flight: the platform's periodic read of the gateway's usage
    // journals (every 5 s) would hold a keep-alive connection to the gateway at any moment. Usage
    // is still ingested on demand (before each budget check) while the clients chat.
    platformEnv: { WORKFORCE_USAGE_INGEST_MS: "3600000" },
  });
  const platform = system.platform!;
  const users: PlatformUser[] = [];
  users.push(...(await Promise.all(Array.from({ length: ACCOUNTS }, () => createPlatformUser(platform.url)))));
  const watch = [system.gateway, platform];
  const common = { platformUrl: platform.url, users, clients: CLIENTS, thinkMs: [20, 120] as [number, number], messagesPerSession: 5, watch };
  warm = await chat({ ...common, seconds: WARMUP_SECONDS, keyPrefix: "warm" });
  before = await quiescentSnapshot(watch, { databaseDir: system.pgliteDir });
  soak = await chat({ ...common, seconds: SOAK_SECONDS, keyPrefix: "soak" });
  after = await quiescentSnapshot(watch, { databaseDir: system.pgliteDir });
}, 90_000);

afterAll(async () => {
  await system?.stop();
});

describe(`soak: ${CLIENTS} chat clients for ${SOAK_SECONDS} s`, () => {
  it("completes every run without an error", () => {
    expect(warm.errors).toEqual({});
    expect(soak.errors).toEqual({});
    expect(soak.runs).toBeGreaterThanOrEqual(CLIENTS);
  });

  it("keeps RSS at the end within 10% above RSS after the warm-up", () => {
    // Read at the two quiescent moments (nothing in flight, after a full GC): in a run of seconds,
    // RSS sampled under load swings by ±7% with the young generation. Only growth counts: the
    // platform's RSS often drops by a third once PGlite gives back its start-up memory.
    for (const service of ["gateway", "platform"]) {
      const [warmRss, endRss] = [before[service]!.rss, after[service]!.rss];
      const underLoad = `${(meanRssOfLast(warm.rss[service] ?? [], 2) / 1e6).toFixed(0)} → ${(meanRssOfLast(soak.rss[service] ?? [], 2) / 1e6).toFixed(0)} MB under load`;
      expect(endRss / warmRss - 1, `${service}: ${(warmRss / 1e6).toFixed(0)} → ${(endRss / 1e6).toFixed(0)} MB quiescent, ${underLoad}`).toBeLessThanOrEqual(0.1);
    }
  });

  it("leaks no descriptors, sockets or timers", () => {
    for (const service of ["gateway", "platform"]) {
      const [first, last] = [before[service]!, after[service]!];
      const detail = `${service}: ${JSON.stringify(first)} → ${JSON.stringify(last)}`;
      // PGlite keeps its relation files open as tables grow (bounded by its file cache): not a leak.
      const fds = (snapshot: SoakSnapshot) => snapshot.fds - (snapshot.databaseFiles ?? 0);
      expect(fds(last), detail).toBeLessThanOrEqual(fds(first) + 2);
      expect(last.sockets, detail).toBeLessThanOrEqual(first.sockets + 1);
      const timers = (snapshot: SoakSnapshot) => (snapshot.resources.Timeout ?? 0) + (snapshot.resources.Immediate ?? 0);
      expect(timers(last), detail).toBeLessThanOrEqual(timers(first) + 1);
    }
  });
});
