/**
 * Starts the real services as child processes (fake upstream, gateway, platform, `npm start`'s
 * launcher) on free loopback ports, and reads their memory, CPU time and open descriptors from
 * /proc. Shared by the benchmark (`npm run bench`) and the fault-injection tests (e2e/faults).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../e2e/system";
import { ensureBuilt, GATEWAY_BUNDLE, PLATFORM_BUNDLE } from "../../scripts/lib/build";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const FAKE_API_KEY = "sk-ant-bench-key";
const PROBE = path.join(repoRoot, "bench", "lib", "probe.ts");

export { freePort };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Every child still running, so an interrupted bench (Ctrl-C) leaves no service behind. */
const running = new Set<ChildProcess>();

/** SIGKILLs every child this process started that is still running. */
export function killAllServices(): void {
  for (const child of running) child.kill("SIGKILL");
  running.clear();
}

export interface ChildService {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last ~64 KB the process wrote to stdout and stderr. */
  output(): string;
  exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
}

export interface SpawnOptions {
  env: NodeJS.ProcessEnv;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Install bench/lib/probe.ts, which dumps process resources on SIGUSR2 (see `probe`). */
  probe?: boolean;
  ipc?: boolean;
}

let building: Promise<unknown> | undefined;

/**
 * Brings the service bundles up to date once per process (what `npm start` does before starting
 * them), so the bench and the fault tests run what production runs.
 */
export function ensureServiceBundles(): Promise<unknown> {
  building ??= ensureBuilt({ log: () => undefined, pgliteTemplate: true });
  return building;
}

/**
 * Spawns `node <script> ...args` from the repository root: a bundle (`.js`) as it is, TypeScript
 * through tsx (`--import tsx`); the probe is TypeScript, so it brings tsx along when asked for.
 */
export function spawnService(name: string, script: string, args: string[], options: SpawnOptions): ChildService {
  const probeFile = options.probe ? path.join(os.tmpdir(), `wf-probe-${randomUUID()}.json`) : undefined;
  const tsx = script.endsWith(".ts") || options.probe ? ["--import", "tsx"] : [];
  const child = spawn(
    process.execPath,
    [...(options.nodeFlags ?? []), ...tsx, ...(options.probe ? ["--import", PROBE] : []), path.isAbsolute(script) ? script : path.join(repoRoot, script), ...args],
    {
      cwd: repoRoot,
      env: { NO_COLOR: "1", ...options.env, ...(probeFile ? { BENCH_PROBE_FILE: probeFile } : {}) },
      stdio: ["ignore", "pipe", "pipe", ...(options.ipc ? (["ipc"] as const) : [])],
    },
  );
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  running.add(child);
  child.once("exit", () => {
    running.delete(child);
    if (probeFile) rmSync(probeFile, { force: true });
  });
  let output = "";
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    if (output.length > 65_536) output = output.slice(-65_536);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))));
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  const service: ChildService & { probeFile?: string } = {
    name,
    child,
    pid: child.pid,
    output: () => output,
    exited,
    async stop(graceMs = 5_000) {
      if (gone()) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (gone()) return;
      child.kill("SIGKILL");
      await exited;
    },
  };
  if (probeFile) service.probeFile = probeFile;
  return service;
}

/** Polls `url` until it answers 2xx; throws with the service's output if it exits or times out. */
export async function waitHealthy(url: string, service: ChildService, timeoutMs = 30_000, intervalMs = 10): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void service.exited.then(() => (exited = true));
  while (!exited && Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(intervalMs);
  }
  throw new Error(`${service.name} did not become healthy at ${url} (${exited ? "it exited" : `after ${timeoutMs} ms`}):\n${service.output()}`);
}

/* ---------- the fake upstream (bench/lib/fake-server.ts over IPC) ---------- */

export interface FakeDefaults {
  tokens?: number;
  tokenDelayMs?: number;
  text?: string;
}

export interface FakeService extends ChildService {
  url: string;
  configure(defaults: FakeDefaults): Promise<void>;
}

export async function startFake(defaults: FakeDefaults = {}, options: { nodeFlags?: string[] } = {}): Promise<FakeService> {
  const service = spawnService("fake-upstream", "bench/lib/fake-server.ts", [], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, FAKE_API_KEY, FAKE_DEFAULTS: JSON.stringify(defaults) },
    ipc: true,
    ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
  });
  const url = await new Promise<string>((resolve, reject) => {
    service.child.once("message", (message: { type: string; url: string }) => resolve(message.url));
    void service.exited.then(() => reject(new Error(`fake upstream exited:\n${service.output()}`)));
  });
  let counter = 0;
  return {
    ...service,
    url,
    configure: (next) =>
      new Promise<void>((resolve) => {
        const id = (counter += 1);
        const onMessage = (message: { type: string; id: number }) => {
          if (message.type !== "configured" || message.id !== id) return;
          service.child.off("message", onMessage);
          resolve();
        };
        service.child.on("message", onMessage);
        service.child.send({ type: "configure", id, defaults: next });
      }),
  };
}

/** The trivial Hono proxy hop in front of the fake upstream (bench/lib/hono-hop.ts): the floor of one hop. */
export async function startHonoHop(upstreamUrl: string): Promise<ChildService & { url: string }> {
  const service = spawnService("hono-hop", "bench/lib/hono-hop.ts", [], { env: { PATH: process.env.PATH, HOME: process.env.HOME, HONO_HOP_UPSTREAM: upstreamUrl }, ipc: true });
  const url = await new Promise<string>((resolve, reject) => {
    service.child.once("message", (message: { type: string; url: string }) => resolve(message.url));
    void service.exited.then(() => reject(new Error(`hono hop exited:\n${service.output()}`)));
  });
  return { ...service, url };
}

/* ---------- gateway and platform ---------- */

export interface GatewayOptions {
  dataDir: string;
  fakeUrl?: string;
  hookToken: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  nodeFlags?: string[];
  probe?: boolean;
  /** Skip waiting for GET / (cold-start measurement does its own polling). */
  noWait?: boolean;
  /** Run the TypeScript sources through tsx instead of the bundle (see `fromSource`). */
  source?: boolean;
}

/**
 * CPU profiles attribute time by script URL, which a bundle collapses into one file: profiled
 * services (--cpu-prof) run from source unless told otherwise; everything else runs the bundle.
 */
export function fromSource(options: { source?: boolean; nodeFlags?: string[] }): boolean {
  return options.source ?? (options.nodeFlags ?? []).some((flag) => flag.startsWith("--cpu-prof"));
}

export interface GatewayService extends ChildService {
  url: string;
  port: number;
}

export async function startGateway(options: GatewayOptions): Promise<GatewayService> {
  const port = options.port ?? (await freePort());
  const source = fromSource(options);
  if (!source) await ensureServiceBundles();
  const service = spawnService("gateway", source ? "gateway/src/cli.ts" : GATEWAY_BUNDLE, ["run", "--port", String(port), "--bind", "127.0.0.1"], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TENANT_DATA_DIR: options.dataDir,
      CLAWDBOT_HOOK_TOKEN: options.hookToken,
      ...(options.fakeUrl ? { ANTHROPIC_API_KEY: FAKE_API_KEY, ANTHROPIC_BASE_URL: options.fakeUrl } : {}),
      ...options.env,
    },
    ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
    ...(options.probe ? { probe: true } : {}),
  });
  const url = `http://127.0.0.1:${port}`;
  if (!options.noWait) await waitHealthy(`${url}/`, service);
  return { ...service, url, port };
}

export interface PlatformOptions {
  gatewayUrl: string;
  hookToken: string;
  dataDir: string;
  pgliteDir: string;
  env?: NodeJS.ProcessEnv;
  nodeFlags?: string[];
  probe?: boolean;
  /** Run the TypeScript sources through tsx instead of the bundle. */
  source?: boolean;
  /** The service's name in logs and errors (default "platform"; a second platform needs another). */
  name?: string;
}

export interface PlatformService extends ChildService {
  url: string;
}

export async function startPlatform(options: PlatformOptions): Promise<PlatformService> {
  const port = await freePort();
  const source = fromSource(options);
  if (!source) await ensureServiceBundles();
  const service = spawnService(options.name ?? "platform", source ? "platform/src/main.ts" : PLATFORM_BUNDLE, [], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: "127.0.0.1",
      CLAWDBOT_GATEWAY_URL: options.gatewayUrl,
      CLAWDBOT_HOOK_TOKEN: options.hookToken,
      TENANT_DATA_DIR: options.dataDir,
      PGLITE_DATA_DIR: options.pgliteDir,
      // The load phases drive a few accounts far past a person's rate limits on purpose; the
      // limiter still counts every request (its cost is measured), it just never refuses one.
      WORKFORCE_API_REQUESTS_PER_MINUTE: "1000000",
      WORKFORCE_API_MAX_STREAMS: "100000",
      ...options.env,
    },
    ...(options.nodeFlags ? { nodeFlags: options.nodeFlags } : {}),
    ...(options.probe ? { probe: true } : {}),
  });
  const url = `http://127.0.0.1:${port}`;
  // One that never became healthy is not left running behind the error.
  await waitHealthy(`${url}/api/health`, service, 60_000).catch(async (error: unknown) => {
    await service.kill();
    throw error;
  });
  return { ...service, url };
}

/* ---------- /proc readings ---------- */

/** Resident set size in bytes (VmRSS), or NaN when the process is gone. */
export async function rssBytes(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const match = /VmRSS:\s+(\d+) kB/.exec(status);
    return match ? Number(match[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** The process ids of a process's children (the platform's embedded database process on PGlite). */
export async function childPids(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8").catch(() => "");
  return children.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Summed RSS of a process's children (the platform's embedded database process), or undefined when it has none. */
export async function childRss(pid: number): Promise<number | undefined> {
  const pids = await childPids(pid);
  if (pids.length === 0) return undefined;
  let total = 0;
  for (const child of pids) total += (await rssBytes(child)) || 0;
  return total;
}

/** User + system CPU time in milliseconds. */
export async function cpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU milliseconds of each process that can be read (a process gone or not on this machine is left out). */
export async function cpuMsByPid(pids: readonly number[]): Promise<Map<number, number>> {
  const readings = new Map<number, number>();
  for (const pid of pids) {
    const used = await cpuMs(pid).catch(() => undefined);
    if (used !== undefined && Number.isFinite(used)) readings.set(pid, used);
  }
  return readings;
}

/**
 * CPU used between two readings: a process in both counts its difference, one born in between
 * all of its time, one gone in between nothing (what it used in the window is lost, which is
 * little: a pool closes a connection only after it sat idle).
 */
export function cpuUsedBetween(before: Map<number, number> | undefined, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, ms] of after) used += ms - (before?.get(pid) ?? 0);
  return used;
}

export interface DescriptorCount {
  total: number;
  sockets: number;
  files: number;
  /** Of `files`, those under `databaseDir`: PGlite's relation files, which Postgres keeps open (bounded by its own file cache) as tables grow. */
  database: number;
  other: number;
}

/** Open file descriptors of a process by kind. */
export async function descriptors(pid: number, databaseDir?: string): Promise<DescriptorCount> {
  const names = await readdir(`/proc/${pid}/fd`);
  const count: DescriptorCount = { total: names.length, sockets: 0, files: 0, database: 0, other: 0 };
  await Promise.all(
    names.map(async (name) => {
      const target = await readlink(`/proc/${pid}/fd/${name}`).catch(() => "");
      if (target.startsWith("socket:")) count.sockets += 1;
      else if (target.startsWith("/")) {
        count.files += 1;
        if (databaseDir && target.startsWith(`${databaseDir}/`)) count.database += 1;
      }
      else count.other += 1;
    }),
  );
  return count;
}

export interface ProbeReport {
  rss: number;
  heapUsed: number;
  external: number;
  /** process.getActiveResourcesInfo() counted by type (TCPSocketWrap, Timeout, FSReqCallback, …). */
  resources: Record<string, number>;
  handles: number;
}

/** Asks a service started with `probe: true` for its resources (after a full GC when --expose-gc is on). */
export async function probe(service: ChildService): Promise<ProbeReport> {
  const file = (service as ChildService & { probeFile?: string }).probeFile;
  if (!file) throw new Error(`${service.name} was started without the probe`);
  const before = Date.now();
  service.child.kill("SIGUSR2");
  for (let attempt = 0; attempt < 200; attempt += 1) {
    await sleep(25);
    try {
      const report = JSON.parse(await readFile(file, "utf8")) as ProbeReport & { at: number };
      if (report.at >= before) return report;
    } catch {
      // not written yet
    }
  }
  throw new Error(`${service.name} did not answer the probe`);
}
