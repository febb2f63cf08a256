import { parseArgs } from "node:util";

/** Every size and duration of the bench; `--quick` shrinks them so a run ends in about a minute. */
export interface BenchOptions {
  quick: boolean;
  /** Phases to run (all by default). */
  only: Set<string>;
  /** Write docs/benchmarks.md and the SVGs (default on; --no-write for a dry run). */
  write: boolean;
  /** Take the phases this run skips from bench/results/last.json (the previous run). */
  merge: boolean;
  /** Measure nothing: rewrite docs/benchmarks.md from bench/results/last.json (after editing bench/analysis.md). */
  reportOnly: boolean;
  /** Record CPU profiles of gateway and platform under load and at start-up (on in full runs; --profile in quick ones). */
  profile: boolean;
  coldStartRepeats: number;
  /** Also time the platform alone and `npm start` itself (off in quick mode). */
  coldStartAll: boolean;
  /** Pause before reading RSS, so the numbers are not mid-GC. */
  settleMs: number;
  latencyRuns: number;
  latencyWarmup: number;
  /** Tokens per reply and delay before each one, for latency and soak. */
  tokens: number;
  tokenDelayMs: number;
  throughputSeconds: number;
  concurrency: number[];
  messagesPerSession: number;
  streams: number;
  streamHoldSeconds: number;
  sessionSizes: number[];
  sessionAppends: number;
  appendSamples: number;
  soakUsers: number;
  soakWarmupSeconds: number;
  soakSeconds: number;
  /** Fairness: tenant A's runs sent at once, and tenant B's messages measured (idle, then under the flood). */
  fairnessFlood: number;
  fairnessSamples: number;
  /** Tenants phase: the tenant counts (each tenant holds one live stream) and the messages measured at each. */
  tenantCounts: number[];
  tenantSamples: number;
  /**
   * The Postgres server the latency and throughput phases also run a platform on, in a private
   * database created and dropped by the bench; undefined: --postgres-url off.
   */
  postgresUrl: string | undefined;
}

/** Where the bench looks for a Postgres server when neither --postgres-url nor BENCH_DATABASE_URL names one. */
export const DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export const PHASES = ["cold-start", "latency", "throughput", "fairness", "tenants", "streams", "sessions", "append", "soak"] as const;
const QUICK_PHASES = ["cold-start", "latency", "throughput", "fairness", "tenants", "sessions", "append"];

const USAGE = `npm run bench -- [--quick] [--only latency,throughput,...] [--merge] [--report] [--no-write] [--profile]
  [--latency-runs 200] [--tokens 20] [--token-delay-ms 5] [--throughput-seconds 8] [--concurrency 1,10,100]
  [--streams 10000] [--stream-hold-seconds 10] [--session-sizes 10,1000,10000,100000] [--session-appends 200]
  [--append-samples 500] [--soak-users 50] [--soak-warmup-seconds 20] [--soak-seconds 120] [--cold-start-repeats 5]
  [--fairness-flood 500] [--fairness-samples 60] [--tenant-counts 1,100,10000] [--tenant-samples 40]
  [--postgres-url postgres://user@host:5432/postgres | off]
phases: ${PHASES.join(", ")}; --merge keeps the other phases' figures from the previous run (bench/results/last.json);
--report measures nothing and rewrites docs/benchmarks.md from that file (e.g. after editing bench/analysis.md);
--postgres-url (default $BENCH_DATABASE_URL, else ${DEFAULT_POSTGRES_URL}): a server where the login may create
databases; latency and throughput also measure a platform on a private database there (dropped afterwards), or
report it as not measured when no server answers`;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      "no-write": { type: "boolean", default: false },
      profile: { type: "boolean", default: false },
      merge: { type: "boolean", default: false },
      report: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
      "cold-start-repeats": { type: "string" },
      "latency-runs": { type: "string" },
      tokens: { type: "string" },
      "token-delay-ms": { type: "string" },
      "throughput-seconds": { type: "string" },
      concurrency: { type: "string" },
      "messages-per-session": { type: "string" },
      streams: { type: "string" },
      "stream-hold-seconds": { type: "string" },
      "session-sizes": { type: "string" },
      "session-appends": { type: "string" },
      "append-samples": { type: "string" },
      "soak-users": { type: "string" },
      "soak-warmup-seconds": { type: "string" },
      "soak-seconds": { type: "string" },
      "fairness-flood": { type: "string" },
      "fairness-samples": { type: "string" },
      "tenant-counts": { type: "string" },
      "tenant-samples": { type: "string" },
      "postgres-url": { type: "string" },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick;
  const int = (name: string, full: number, short: number): number => {
    const raw = (values as Record<string, unknown>)[name];
    if (raw === undefined) return quick ? short : full;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a number ≥ 0\n${USAGE}`);
    return value;
  };
  const list = (name: string, full: number[], short: number[]): number[] => {
    const raw = (values as Record<string, unknown>)[name];
    if (typeof raw !== "string") return quick ? short : full;
    return raw.split(",").map((part) => {
      const value = Number(part.trim());
      if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a comma-separated list of whole numbers\n${USAGE}`);
      return value;
    });
  };
  // Quick mode skips the phases that each need a fresh system and minutes (their short versions
  // run in the test suite: e2e/faults/soak.test.ts); name them with --only to run them anyway.
  const only = new Set(values.report ? [] : values.only ? values.only.split(",").map((phase) => phase.trim()) : quick ? QUICK_PHASES : PHASES);
  for (const phase of only) if (!(PHASES as readonly string[]).includes(phase)) throw new Error(`unknown phase "${phase}"\n${USAGE}`);
  return {
    quick,
    only,
    write: !values["no-write"],
    merge: values.merge,
    reportOnly: values.report,
    profile: !values.report && (values.profile || !quick),
    coldStartRepeats: int("cold-start-repeats", 3, 1),
    coldStartAll: !quick,
    settleMs: quick ? 1_500 : 3_000,
    latencyRuns: int("latency-runs", 200, 25),
    latencyWarmup: quick ? 5 : 30,
    tokens: int("tokens", 20, 20),
    tokenDelayMs: int("token-delay-ms", 5, 5),
    throughputSeconds: int("throughput-seconds", 8, 1),
    concurrency: list("concurrency", [1, 10, 100], [1, 10, 100]),
    messagesPerSession: int("messages-per-session", 10, 10),
    streams: int("streams", 10_000, 1_000),
    streamHoldSeconds: int("stream-hold-seconds", 10, 2),
    sessionSizes: list("session-sizes", [10, 1_000, 10_000, 100_000], [10, 10_000]),
    sessionAppends: int("session-appends", 200, 30),
    appendSamples: int("append-samples", 500, 100),
    soakUsers: int("soak-users", 50, 50),
    soakWarmupSeconds: int("soak-warmup-seconds", 20, 3),
    soakSeconds: int("soak-seconds", 120, 6),
    fairnessFlood: int("fairness-flood", 500, 200),
    fairnessSamples: int("fairness-samples", 60, 20),
    tenantCounts: list("tenant-counts", [1, 100, 10_000], [1, 10, 100]),
    tenantSamples: int("tenant-samples", 40, 15),
    postgresUrl: postgresUrlOf(values["postgres-url"] ?? env.BENCH_DATABASE_URL),
  };
}

function postgresUrlOf(raw: string | undefined): string | undefined {
  if (raw === undefined || raw.trim() === "") return DEFAULT_POSTGRES_URL;
  if (raw.trim() === "off") return undefined;
  if (!/^postgres(ql)?:\/\//.test(raw.trim())) throw new Error(`--postgres-url must be a postgres:// URL or "off"\n${USAGE}`);
  return raw.trim();
}
