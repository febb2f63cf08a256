/**
 * One chaos run (issue 13, item 4): start the cluster, sign the users up, let them chat while a
 * random gateway is SIGKILLed and restarted every few seconds, stop everything cleanly, then
 * check what users saw against what is stored. Used by `npm run chaos` and by the short CI test.
 */
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";
import path from "node:path";
import { runJournalsDirPath } from "@workforce/protocol/tenant-path";
import { readInFlightJournal } from "../../gateway/src/runs/in-flight-journal";
import { createPlatformUser, type PlatformUser } from "../../bench/lib/targets";
import { inspectDataDir, seededRandom } from "../faults/support";
import { startChaosCluster, type ChaosCluster, type GatewaySlot, type Via } from "./chaos-cluster";
import { chaosChecks, type ChaosChecks } from "./chaos-checks";
import { chat, type MessageRecord } from "./chat-user";

export interface ChaosOptions {
  users: number;
  durationMs: number;
  killEveryMs: number;
  via: Via;
  seed: number;
  /** Pause between a user's messages, least and most. */
  thinkMs: [number, number];
  tokens: number;
  tokenDelayMs: number;
  stallMs: number;
  /** How long leases of killed gateways may take to expire after the clean shutdown. */
  leaseGraceMs: number;
  /** Longest wait for the cluster to settle after the chatting (default 45 s). */
  settleLimitMs?: number;
  postgresUrl: string;
  redisUrl: string;
  log: (line: string) => void;
}

export interface ChaosFigures {
  commit: string;
  via: Via;
  users: number;
  durationS: number;
  killEveryS: number;
  gateways: number;
  platforms: number;
  messages: number;
  completed: number;
  /** Messages whose stream was cut mid-run (at least once). */
  interruptedStreams: number;
  /** Of those, ended run-end ok after a resume, and ended run_interrupted. */
  resumedOk: number;
  endedRunInterrupted: number;
  runNotFound: number;
  stalled: number;
  failed: Record<string, number>;
  gaveUp: number;
  retriedSends: number;
  resumes: number;
  /** Cut streams recovered by sending again with the same idempotency key. */
  rejoins: number;
  kills: number;
  restartMs: { p50: number; max: number };
  /** From the end of the chatting until no journal held a run in flight (killed runs taken over and marked). */
  settleMs?: number;
  latencyMs: { p50: number; p95: number; max: number };
  modelRequests: number;
  /** Connections the platforms opened through the round-robin balancer (CLAWDBOT_GATEWAY_URL) while the users chatted: with `membership`, the fallback for while no gateway is known. */
  balancerConnections: number;
  lost: number;
  duplicated: number;
  wrongReply: number;
  executedTwice: number;
  registryProblems: number;
  leftovers: number;
}

export interface ChaosResult {
  figures: ChaosFigures;
  checks: ChaosChecks;
  records: MessageRecord[];
}

export const MESSAGE_PREFIX = "chaos";
const GATEWAYS = 3;
const PLATFORMS = 2;

function percentile(values: number[], fraction: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!);
}

/** The commit the run measured, marked when the working tree has changes. */
export function describeCommit(): string {
  const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
  try {
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? " (uncommitted changes)" : ""}`;
  } catch {
    return "unknown";
  }
}

async function signUpAll(cluster: ChaosCluster, count: number): Promise<PlatformUser[]> {
  const users: PlatformUser[] = [];
  // A few at a time: each sign-up hashes a password (argon2), and the machine is shared.
  for (let start = 0; start < count; start += 5) {
    const batch = Array.from({ length: Math.min(5, count - start) }, (_, offset) => start + offset);
    users.push(
      ...(await Promise.all(
        batch.map((index) =>
          // Each user from a network of their own (the platforms trust one proxy hop), as real users
          // behind a balancer are: the sign-up limit counts per network.
          createPlatformUser(cluster.platforms[index % cluster.platforms.length]!.url, `chaos-${index}-${Date.now()}@example.com`, { "x-forwarded-for": `10.13.${index >> 8}.${index & 255}` }),
        ),
      )),
    );
  }
  return users;
}

/**
 * The gateway to kill: the first one seen starting a model reply within `waitMs` (it is then
 * streaming for sure, so the kill cuts a run mid-stream even in a short run with few users), a
 * random one when none does.
 */
async function pickVictim(cluster: ChaosCluster, waitMs: number, random: () => number): Promise<{ slot: GatewaySlot; streaming: boolean }> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    const recent = cluster.gateways.filter((slot) => slot.lastModelRequestAt >= Date.now() - 100);
    if (recent.length > 0) return { slot: recent[Math.floor(random() * recent.length)]!, streaming: true };
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { slot: cluster.gateways[Math.floor(random() * cluster.gateways.length)]!, streaming: false };
}

/** Kills a gateway every `everyMs` (see pickVictim) and restarts it, until `stop` resolves. */
async function killLoop(cluster: ChaosCluster, everyMs: number, random: () => number, stop: Promise<void>, log: (line: string) => void): Promise<number[]> {
  const restartMs: number[] = [];
  let stopped = false;
  void stop.then(() => (stopped = true));
  let next = Date.now() + everyMs;
  for (;;) {
    await Promise.race([stop, new Promise((resolve) => setTimeout(resolve, Math.max(0, next - Date.now())))]);
    if (stopped) return restartMs;
    const { slot, streaming } = await pickVictim(cluster, Math.min(2_000, everyMs / 2), random);
    const began = Date.now();
    const killed = slot.service?.pid;
    await cluster.killAndRestart(slot);
    restartMs.push(Date.now() - began);
    log(`kill ${restartMs.length}: gateway ${slot.index} (pid ${killed}${streaming ? ", streaming" : ""}) back after ${Date.now() - began} ms`);
    next += everyMs;
  }
}

/** Runs the gateways' journals still hold in flight (of live processes, or of killed ones not yet taken over). */
function runsInFlight(dataDir: string): number {
  let names: string[];
  try {
    names = readdirSync(runJournalsDirPath(dataDir)).filter((name) => name.endsWith(".jsonl"));
  } catch {
    return 0;
  }
  return names.reduce((sum, name) => sum + (readInFlightJournal(path.join(runJournalsDirPath(dataDir), name))?.live.length ?? 0), 0);
}

/**
 * After the last kill the cluster settles by itself: the killed process's session leases expire
 * (their TTL), a gateway takes its runs over, marks their transcripts and recounts their
 * registry entries. Waits for that (nothing left in flight in any journal), at most `limitMs`;
 * returns how long it took. Checking before would judge a state the cluster is still repairing.
 */
async function settle(dataDir: string, limitMs: number): Promise<number> {
  const began = Date.now();
  while (runsInFlight(dataDir) > 0 && Date.now() - began < limitMs) await new Promise((resolve) => setTimeout(resolve, 250));
  return Date.now() - began;
}

/**
 * Lease keys still in Redis once every service stopped. Leases of the SIGKILLed processes expire
 * on their own (PX), so they get `graceMs` to; a lease without expiry, or still renewed, stays.
 */
async function leasesLeftBehind(cluster: ChaosCluster, graceMs: number): Promise<string[]> {
  const deadline = Date.now() + graceMs;
  let keys = await cluster.redisKeys("workforce:lease:*");
  while (keys.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    keys = await cluster.redisKeys("workforce:lease:*");
  }
  return keys;
}

function figuresOf(options: ChaosOptions, records: MessageRecord[], checks: ChaosChecks, restartMs: number[], modelRequests: ReadonlyMap<string, number>, balancerConnections: number): ChaosFigures {
  const count = (predicate: (record: MessageRecord) => boolean) => records.filter(predicate).length;
  const failed: Record<string, number> = {};
  for (const record of records.filter((each) => each.outcome === "failed")) failed[record.code ?? "unknown"] = (failed[record.code ?? "unknown"] ?? 0) + 1;
  const latencies = records.filter((record) => record.outcome === "ok").map((record) => record.endedAt - record.startedAt);
  return {
    commit: describeCommit(),
    via: options.via,
    users: options.users,
    durationS: options.durationMs / 1000,
    killEveryS: options.killEveryMs / 1000,
    gateways: GATEWAYS,
    platforms: PLATFORMS,
    messages: records.length,
    completed: count((record) => record.outcome === "ok"),
    interruptedStreams: count((record) => record.drops > 0),
    resumedOk: count((record) => record.drops > 0 && record.outcome === "ok"),
    endedRunInterrupted: count((record) => record.outcome === "interrupted"),
    runNotFound: records.reduce((sum, record) => sum + record.notFound, 0),
    stalled: count((record) => record.outcome === "stalled"),
    failed,
    gaveUp: count((record) => record.outcome === "gave-up"),
    retriedSends: records.reduce((sum, record) => sum + record.sends - 1, 0),
    resumes: records.reduce((sum, record) => sum + record.resumes, 0),
    rejoins: records.reduce((sum, record) => sum + record.rejoins, 0),
    kills: restartMs.length,
    restartMs: { p50: percentile(restartMs, 0.5), max: Math.max(0, ...restartMs) },
    latencyMs: { p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95), max: Math.max(0, ...latencies) },
    modelRequests: [...modelRequests.values()].reduce((sum, value) => sum + value, 0),
    balancerConnections,
    lost: checks.messages.lost.length,
    duplicated: checks.messages.duplicated.length,
    wrongReply: checks.messages.wrongReply.length,
    executedTwice: checks.executedTwice.length,
    registryProblems: checks.registries.length,
    leftovers: checks.leftovers.length,
  };
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const random = seededRandom(options.seed);
  const cluster = await startChaosCluster({
    gateways: GATEWAYS,
    platforms: PLATFORMS,
    via: options.via,
    tokens: options.tokens,
    tokenDelayMs: options.tokenDelayMs,
    postgresUrl: options.postgresUrl,
    redisUrl: options.redisUrl,
    messagePrefix: MESSAGE_PREFIX,
    log: options.log,
  });
  try {
    const users = await signUpAll(cluster, options.users);
    options.log(`cluster up (data ${cluster.dataDir}, redis ${cluster.redisUrl}, balancer ${cluster.proxy.url}); ${users.length} users signed up`);
    const records: MessageRecord[] = [];
    const balancerBefore = cluster.proxy.stats.forwarded;
    const endAt = Date.now() + options.durationMs;
    const platformUrls = cluster.platforms.map((platform) => platform.url);
    const chats = Promise.all(
      users.map((user, index) =>
        chat(
          { index, user, platformUrls, sessionKey: `chat-${index}`, messagePrefix: MESSAGE_PREFIX, endAt, thinkMs: options.thinkMs, stallMs: options.stallMs, rejoinShare: 0.5, maxAttempts: 12, random: seededRandom(options.seed + index + 1) },
          (record) => records.push(record),
        ),
      ),
    );
    let stopKilling!: () => void;
    const killing = killLoop(cluster, options.killEveryMs, random, new Promise<void>((resolve) => (stopKilling = resolve)), options.log);
    // The kills stop with the chatting window; messages still in flight finish against a steady cluster.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, endAt - Date.now())));
    stopKilling();
    const restartMs = await killing;
    await chats;
    const settleMs = await settle(cluster.dataDir, options.settleLimitMs ?? 45_000);
    options.log(`${records.length} messages; settled after ${settleMs} ms; stopping the services`);
    await cluster.stopServices();
    const report = await inspectDataDir(cluster.dataDir);
    const leaseKeys = await leasesLeftBehind(cluster, options.leaseGraceMs);
    const checks = chaosChecks({ records, report, modelRequests: cluster.modelRequests, leaseKeys, dataDir: cluster.dataDir });
    return { figures: { ...figuresOf(options, records, checks, restartMs, cluster.modelRequests, cluster.proxy.stats.forwarded - balancerBefore), settleMs }, checks, records };
  } finally {
    await cluster.destroy();
  }
}
