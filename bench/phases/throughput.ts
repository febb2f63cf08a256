/**
 * Completed chat runs per second with C users sending back to back (a new session every
 * `messagesPerSession` messages), for a fixed time; errors tallied by code. CPU time per run is
 * read from /proc for every process (the embedded database's and the Postgres server's backends
 * too), and for the gateway and the platforms the session registry is checked afterwards: every
 * completed run must have persisted its two messages.
 */
import type { BenchContext, CpuName, ServiceName, ThroughputRow } from "../lib/context";
import { cpuMs, cpuUsedBetween, type ChildService } from "../lib/services";
import { jsonRequest } from "../lib/sse-client";
import { summarize } from "../lib/stats";
import { completed, failureOf, type Target } from "../lib/targets";

export interface LoadResult {
  completed: number;
  errors: Record<string, number>;
  seconds: number;
  latencies: number[];
}

/** C workers sending messages back to back until `seconds` have passed. */
export async function runLoad(target: Target, concurrency: number, seconds: number, keyPrefix: string, messagesPerSession: number): Promise<LoadResult> {
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const errors: Record<string, number> = {};
  const latencies: number[] = [];
  let ok = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let index = 0; performance.now() < deadline; index += 1) {
        const sessionKey = `${keyPrefix}-u${worker}-s${Math.floor(index / messagesPerSession)}`;
        const result = await target.send(`Message ${index} from user ${worker}: please answer briefly.`, sessionKey, { timeoutMs: 120_000 });
        if (completed(result, target.name)) {
          ok += 1;
          latencies.push(result.totalMs);
        } else {
          const reason = failureOf(result);
          errors[reason] = (errors[reason] ?? 0) + 1;
        }
      }
    }),
  );
  return { completed: ok, errors, seconds: (performance.now() - started) / 1000, latencies };
}

/** CPU ms of a group of processes by pid, now: processes that come and go between readings count from 0. */
export type CpuMeter = () => Promise<Map<number, number>>;

export interface ThroughputDeps {
  targets: Target[];
  processes: Partial<Record<ServiceName, ChildService>>;
  /** Processes the bench did not start itself: the embedded database, the Postgres server's backends. */
  meters?: Partial<Record<CpuName, CpuMeter>>;
  /** For the persistence check: the gateway URL, token, and which tenant/agent each target writes to. */
  gatewayUrl: string;
  hookToken: string;
  agentOf: Partial<Record<Target["name"], { tenantId: string; slug: string }>>;
}

export async function measureThroughput(context: BenchContext, deps: ThroughputDeps): Promise<ThroughputRow[]> {
  const { options, log } = context;
  const rows: ThroughputRow[] = [];
  for (const concurrency of options.concurrency) {
    for (const target of deps.targets) {
      const prefix = `tp-c${concurrency}`;
      const before = await cpuSnapshot(deps);
      const load = await runLoad(target, concurrency, options.throughputSeconds, prefix, options.messagesPerSession);
      const after = await cpuSnapshot(deps);
      const cpuMsPerRun: ThroughputRow["cpuMsPerRun"] = {};
      for (const name of Object.keys(after) as CpuName[]) {
        cpuMsPerRun[name] = load.completed ? cpuUsedBetween(before[name], after[name]!) / load.completed : Number.NaN;
      }
      const row: ThroughputRow = {
        target: target.name,
        concurrency,
        completed: load.completed,
        errors: load.errors,
        seconds: load.seconds,
        perSecond: load.completed / load.seconds,
        latency: summarize(load.latencies),
        cpuMsPerRun,
      };
      const owner = deps.agentOf[target.name];
      if (owner) {
        const found = await persistedMessages(deps.gatewayUrl, deps.hookToken, owner, `${prefix}-`);
        row.persisted = { expected: 2 * load.completed, found };
      }
      rows.push(row);
      const errorCount = Object.values(load.errors).reduce((sum, count) => sum + count, 0);
      log(
        `  ${target.name.padEnd(8)} c=${String(concurrency).padEnd(3)} ${row.perSecond.toFixed(1)} runs/s (${load.completed} ok, ${errorCount} errors${
          errorCount ? ` ${JSON.stringify(load.errors)}` : ""
        })${row.persisted ? ` persisted ${row.persisted.found}/${row.persisted.expected}` : ""}`,
      );
    }
  }
  return rows;
}

/** CPU ms so far of every process, by name and pid. */
async function cpuSnapshot(deps: ThroughputDeps): Promise<Partial<Record<CpuName, Map<number, number>>>> {
  const snapshot: Partial<Record<CpuName, Map<number, number>>> = {};
  for (const [name, service] of Object.entries(deps.processes) as [ServiceName, ChildService][]) snapshot[name] = new Map([[service.pid, await cpuMs(service.pid)]]);
  for (const [name, meter] of Object.entries(deps.meters ?? {}) as [CpuName, CpuMeter][]) snapshot[name] = await meter();
  const usage = process.cpuUsage();
  snapshot["bench client"] = new Map([[process.pid, (usage.user + usage.system) / 1000]]);
  return snapshot;
}

/** Sum of messageCount over the agent's sessions whose key starts with `prefix`. */
async function persistedMessages(gatewayUrl: string, hookToken: string, owner: { tenantId: string; slug: string }, prefix: string): Promise<number> {
  const { status, body } = await jsonRequest<{ sessions: { key: string; messageCount: number }[] }>(
    `${gatewayUrl}/v1/agents/${owner.slug}/sessions`,
    "GET",
    { authorization: `Bearer ${hookToken}`, "x-tenant-id": owner.tenantId },
  );
  if (status !== 200) return Number.NaN;
  return body.sessions.filter((session) => session.key.startsWith(prefix)).reduce((sum, session) => sum + session.messageCount, 0);
}
