import type { BenchOptions } from "./options";
import type { TargetName } from "./targets";
import type { Summary } from "./stats";

/** "platform-postgres": a second platform on the same gateway, with DATABASE_URL on the Postgres server. */
export type ServiceName = "fake-upstream" | "hono-hop" | "gateway" | "platform" | "platform-postgres";

/** RSS per service; the embedded database is the platform's child process on PGlite (decision 050), absent on Postgres. */
export type ServiceRss = Partial<Record<ServiceName, number>> & { "embedded database"?: number };

/**
 * Whose CPU a throughput row counts: the services, the bench itself, the PGlite platform's
 * embedded database process, and the Postgres server's backends serving the bench's database.
 */
export type CpuName = ServiceName | "bench client" | "embedded database" | "postgres server";

/** The Postgres server the platform-postgres path ran on, or why that path was not measured. */
export type PostgresRun = { measured: true; server: string; version: string } | { measured: false; reason: string };

export interface LatencyRow {
  target: TargetName;
  ttft: Summary;
  total: Summary;
  errors: number;
}

export interface ThroughputRow {
  target: TargetName;
  concurrency: number;
  completed: number;
  errors: Record<string, number>;
  seconds: number;
  perSecond: number;
  latency: Summary;
  /** CPU milliseconds per completed run, per process (= CPU seconds per 1,000 runs). */
  cpuMsPerRun: Partial<Record<CpuName, number>>;
  /** Messages found in the session registry afterwards vs. 2 per completed run (user + reply). */
  persisted?: { expected: number; found: number };
}

export interface StreamsProcess {
  rssBefore: number;
  rssOpen: number;
  /** JS heap after a full GC. */
  heapBefore: number;
  heapOpen: number;
  fdsOpen: number;
  /** CPU spent by the process per stream opened. */
  cpuMsPerOpen: number;
}

export interface StreamsResult {
  requested: number;
  opened: number;
  withToken: number;
  failed: Record<string, number>;
  openSeconds: number;
  /** TCP connections the platform held to the gateway with every stream open (decision 049: a few, whatever the tenants). */
  platformToGateway?: number;
  platform: StreamsProcess;
  gateway: StreamsProcess;
  /** Streams that ended within the deadline after their runs were aborted. */
  endedAfterAbort: number;
  closeSeconds: number;
  platformFdsAfter: number;
  limit: string;
}

export interface SessionScaleRow {
  sessions: number;
  generateSeconds: number;
  /** First request to the agent's sessions: loads sessions.json and checks the transcripts. */
  firstAccessMs: number;
  /** Longest health-route answer while that first access ran (the event loop blocked for every tenant). */
  firstAccessStallMs: number;
  existing: Summary;
  fresh: Summary;
  errors: number;
  /** Longest health-route answer while the idle registry rewrite runs. */
  compactionStallMs: number;
  gatewayRss: number;
}

export interface AppendResult {
  raw: Summary;
  transcript: Summary;
  store: Summary;
  storeAt: Record<number, Summary>;
  disk: string;
}

export interface ColdStartResult {
  gateway: Summary;
  launcher: Summary;
  launcherGatewayReady: Summary;
  platformFresh: Summary;
  platformRestart: Summary;
  npmStart: number | undefined;
}

export interface SoakSnapshot {
  rss: number;
  heapUsed: number;
  fds: number;
  sockets: number;
  /** Of `fds`, the database's relation files (PGlite in the platform): they grow with the tables, not with leaks. */
  databaseFiles?: number;
  resources: Record<string, number>;
}

export interface SoakResult {
  users: number;
  seconds: number;
  runs: number;
  errors: Record<string, number>;
  runsPerSecond: number;
  latency: Summary;
  /** Mean RSS over the last 5 s of the warm-up and of the soak. */
  rssWarm: Record<"gateway" | "platform", number>;
  rssEnd: Record<"gateway" | "platform", number>;
  /** Quiescent snapshots (no runs in flight, keep-alive sockets expired) after warm-up and at the end. */
  before: Record<"gateway" | "platform", SoakSnapshot>;
  after: Record<"gateway" | "platform", SoakSnapshot>;
  rssSeries: Record<"gateway" | "platform", { t: number; rss: number }[]>;
}

/** Tenant B's TTFT, one message at a time, on the idle gateway and while tenant A floods it. */
export interface FairnessResult {
  /** A's runs sent at once. */
  flood: number;
  idle: Summary;
  loaded: Summary;
  bErrors: Record<string, number>;
  aCompleted: number;
  /** A's runs that completed while B's loaded samples were taken. */
  aCompletedDuringB: number;
  aErrors: Record<string, number>;
  /** Seconds from the flood's start to B's last loaded sample, and to A's last run. */
  bSeconds: number;
  floodSeconds: number;
  /** Every loaded sample of B was taken while A still had runs in flight. */
  floodOutlastedB: boolean;
}

/** One tenant count of the tenants phase: the cost of one more message while every tenant holds a live stream. */
export interface TenantsRow {
  tenants: number;
  /** Live SSE streams through the platform while the messages were measured (one per tenant, at most the gateway's run limit less one). */
  liveStreams: number;
  /** Streams that failed to open at this count, by reason. */
  failedStreams: Record<string, number>;
  /** Seconds to create the tenants added at this step (organisation + agent, through the platform's API). */
  createSeconds: number;
  /** Seconds waited after opening the streams for the processes' CPU to stop falling (background work left by the creation). */
  settleSeconds?: number;
  ttft: Summary;
  total: Summary;
  errors: number;
  /** CPU ms per measured message (everything the process did in that window, the live streams' upkeep included). */
  cpuMsPerMessage: { platform: number; gateway: number };
  /** The same less the holding cost (idleCpuMsPerSecond × the window's length): what the message itself cost. */
  cpuMsPerMessageNet?: { platform: number; gateway: number };
  /** CPU ms per second spent holding the live streams with no message in flight. */
  idleCpuMsPerSecond: { platform: number; gateway: number };
  rss: { platform: number; gateway: number };
  fds: { platform: number; gateway: number };
  /** Established TCP connections from the platform to the gateway. */
  platformToGateway: number;
}

export interface TenantsResult {
  /** Messages measured per tenant count (one at a time). */
  samples: number;
  rows: TenantsRow[];
  limit: string;
}

export interface ProfileSummary {
  title: string;
  totalMs: number;
  top: { name: string; where: string; selfMs: number; percent: number }[];
  /** The product's own functions by inclusive time (self + everything they call). */
  inclusive: { name: string; where: string; totalMs: number; percent: number }[];
  byArea: { area: string; selfMs: number; percent: number }[];
}

export interface BenchResults {
  startedAt: Date;
  options: BenchOptions;
  notes: string[];
  coldStart?: ColdStartResult;
  idleRss?: ServiceRss;
  loadedRss?: ServiceRss;
  /** The same processes right after `loadedRss`, after a full GC (bench/lib/inspector-gc.ts). */
  loadedRssAfterGc?: ServiceRss;
  latency?: LatencyRow[];
  throughput?: ThroughputRow[];
  /** Set by the latency and throughput phases: whether the platform was also measured on the Postgres server. */
  postgres?: PostgresRun;
  streams?: StreamsResult;
  sessions?: SessionScaleRow[];
  append?: AppendResult;
  soak?: SoakResult;
  fairness?: FairnessResult;
  tenants?: TenantsResult;
  profiles: ProfileSummary[];
}

export interface BenchContext {
  options: BenchOptions;
  results: BenchResults;
  log: (message: string) => void;
  /** Directory for CPU profiles and scratch data of this run. */
  workDir: string;
}
