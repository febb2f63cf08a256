/**
 * `npm run bench`: starts the fake upstream, the gateway and the platform as child processes and
 * measures latency, throughput, fairness between tenants, open streams, session scaling, append cost, cold start, memory
 * and a soak, each against a baseline measured in the same run; writes docs/benchmarks.md and
 * docs/benchmarks/*.svg. `--quick` for a one-minute run, `--help` for the sizes.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { BenchContext, BenchResults, ServiceName, ServiceRss } from "./lib/context";
import { collectGarbage, INSPECT_ON_SIGNAL } from "./lib/inspector-gc";
import { machineInfo, type MachineInfo } from "./lib/machine";
import { parseOptions } from "./lib/options";
import { writeReport } from "./lib/report";
import { dropBenchDatabases, serverOf, startPostgresPlatform } from "./lib/postgres-platform";
import { childPids, childRss, cpuMsByPid, killAllServices, repoRoot, rssBytes, sleep, startFake, startHonoHop, type PlatformService } from "./lib/services";
import { startBenchSystem } from "./lib/system";
import { createGatewayAgent, createPlatformUser, directTarget, gatewayTarget, platformTarget } from "./lib/targets";
import { evaluateTargets } from "./lib/targets-table";
import { measureAppend } from "./phases/append";
import { measureColdStart } from "./phases/cold-start";
import { measureFairness } from "./phases/fairness";
import { measureLatency } from "./phases/latency";
import { profileHotPaths } from "./phases/profile";
import { measureSessionScaling } from "./phases/sessions";
import { runSoak } from "./phases/soak";
import { measureStreams } from "./phases/streams";
import { measureTenants } from "./phases/tenants";
import { measureThroughput } from "./phases/throughput";

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  const started = performance.now();
  const log = (message: string) => process.stdout.write(`[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)}s] ${message}\n`);
  const results: BenchResults = { startedAt: new Date(), options, notes: [], profiles: [] };
  const workDir = await mkdtemp(path.join(os.tmpdir(), "wf-bench-"));
  const context: BenchContext = { options, results, log, workDir };
  const resultsFile = path.join(repoRoot, "bench", "results", "last.json");
  if (options.reportOnly) return rewriteReport(resultsFile);
  const machine = machineInfo();
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping every service`);
      killAllServices();
      // The private database on the Postgres server goes too (its platform's connections died with it).
      void dropBenchDatabases().finally(() => process.exit(130));
    });
  }
  log(`${machine.cpu}, ${machine.cores} cores, ${(machine.memoryGb).toFixed(1)} GB, node ${machine.node}, commit ${machine.commit}${options.quick ? " (quick)" : ""}`);

  /** Runs one phase; a failure is noted in the report and the next phase still runs. */
  const phase = async (name: string, task: () => Promise<void>) => {
    try {
      await task();
    } catch (error) {
      results.notes.push(`The ${name} phase failed: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      log(`FAILED ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exitCode = 1;
    }
  };

  if (options.only.has("cold-start")) {
    await phase("cold-start", async () => {
      log("cold start");
      const fake = await startFake();
      try {
        results.coldStart = await measureColdStart(context, fake.url);
      } finally {
        await fake.stop();
      }
    });
  }

  if (options.only.has("latency") || options.only.has("throughput")) {
    await phase("latency/throughput", async () => {
      log("starting fake upstream, gateway and platform");
      // --inspect-port=0 only lets the bench open the inspector later for a GC (RSS after load).
      const system = await startBenchSystem({
        fake: { tokens: options.tokens, tokenDelayMs: options.tokenDelayMs },
        gatewayFlags: [INSPECT_ON_SIGNAL],
        platformFlags: [INSPECT_ON_SIGNAL],
      });
      // The floor of one hop: a trivial Hono handler forwarding to the fake upstream.
      const hop = await startHonoHop(system.fake.url).catch(async (error: unknown) => {
        await system.stop();
        throw error;
      });
      // The same platform on the Postgres server, in front of the same gateway, when one answers.
      const onServer = await startPostgresPlatform(system, options.postgresUrl, [INSPECT_ON_SIGNAL]).catch(async (error: unknown) => {
        await hop.stop();
        await system.stop();
        throw error;
      });
      results.postgres = onServer.run;
      if (onServer.run.measured) log(`  platform-postgres on the Postgres server at ${onServer.run.server} (${onServer.run.version}), private database`);
      else log(`  platform-postgres ${onServer.run.reason}`);
      if (onServer.failed) {
        if (!onServer.run.measured) results.notes.push(`The path platform (Postgres server) + gateway was ${onServer.run.reason}.`);
        log(`FAILED platform-postgres: ${onServer.failed}`);
        process.exitCode = 1;
      }
      try {
        const platform = system.platform!;
        const serverPlatform: PlatformService | undefined = onServer.platform;
        const tenant = await createGatewayAgent(system.gateway.url, system.hookToken);
        const user = await createPlatformUser(platform.url);
        const serverUser = serverPlatform ? await createPlatformUser(serverPlatform.url) : undefined;
        const targets = [directTarget(system.fake.url), directTarget(hop.url, "hono-hop"), gatewayTarget(system.gateway.url, tenant), platformTarget(platform.url, user)];
        if (serverPlatform && serverUser) targets.push(platformTarget(serverPlatform.url, serverUser, "platform-postgres"));
        for (const target of targets.slice(1)) await target.send("first request", "idle-probe");
        await sleep(options.settleMs);
        const processes = { "fake-upstream": system.fake, "hono-hop": hop, gateway: system.gateway, platform, ...(serverPlatform ? { "platform-postgres": serverPlatform } : {}) };
        const readRss = async () => {
          const rss = {} as ServiceRss;
          for (const [name, service] of Object.entries(processes) as [ServiceName, { pid: number }][]) rss[name] = await rssBytes(service.pid);
          // Reported apart from the platform's own, not added to it.
          const database = await childRss(platform.pid);
          if (database !== undefined) rss["embedded database"] = database;
          return rss;
        };
        results.idleRss = await readRss();
        log(`  idle RSS: ${Object.entries(results.idleRss).map(([name, bytes]) => `${name} ${(bytes / 1048576).toFixed(0)} MB`).join(", ")}`);
        if (options.only.has("latency")) {
          log("latency, concurrency 1");
          results.latency = await measureLatency(context, targets);
          for (const row of results.latency) log(`  ${row.target.padEnd(8)} TTFT median ${row.ttft.median.toFixed(2)} p95 ${row.ttft.p95.toFixed(2)} · total median ${row.total.median.toFixed(2)} p95 ${row.total.p95.toFixed(2)} ms`);
        }
        if (options.only.has("throughput")) {
          log("throughput");
          await system.fake.configure({ tokens: options.tokens, tokenDelayMs: 0 });
          results.throughput = await measureThroughput(context, {
            targets,
            processes,
            gatewayUrl: system.gateway.url,
            hookToken: system.hookToken,
            agentOf: {
              gateway: tenant,
              platform: { tenantId: user.tenantId, slug: user.slug },
              ...(serverUser ? { "platform-postgres": { tenantId: serverUser.tenantId, slug: serverUser.slug } } : {}),
            },
            // The databases' own processes: PGlite's (the platform's child, decision 050) and the server's backends.
            meters: { "embedded database": async () => cpuMsByPid(await childPids(platform.pid)), ...(onServer.backendCpu ? { "postgres server": onServer.backendCpu } : {}) },
          });
          await sleep(options.settleMs);
          results.loadedRss = await readRss();
          log(`  RSS after load: ${Object.entries(results.loadedRss).map(([name, bytes]) => `${name} ${(bytes / 1048576).toFixed(0)} MB`).join(", ")}`);
          // The target (issue 17) is RSS after load *after a GC*: collect, then read again.
          results.loadedRssAfterGc = {};
          for (const service of [system.gateway, platform, ...(serverPlatform ? [serverPlatform] : [])]) {
            await collectGarbage(service);
            await sleep(500);
            results.loadedRssAfterGc[service.name as ServiceName] = await rssBytes(service.pid);
          }
          log(`  RSS after load and a full GC: ${Object.entries(results.loadedRssAfterGc).map(([name, bytes]) => `${name} ${(bytes / 1048576).toFixed(0)} MB`).join(", ")}`);
        }
      } finally {
        await hop.stop();
        await onServer.stop().catch((error: unknown) => {
          results.notes.push(`The bench's database on the Postgres server may be left behind: ${error instanceof Error ? error.message : String(error)}`);
        });
        await system.stop();
      }
    });
  }

  if (options.only.has("fairness")) {
    await phase("fairness", async () => {
      log(`fairness: tenant A floods ${options.fairnessFlood} runs, tenant B sends one at a time`);
      results.fairness = await measureFairness(context);
    });
  }
  if (options.only.has("tenants")) {
    await phase("tenants", async () => {
      log(`tenants, each with a live stream (${options.tenantCounts.join(", ")})`);
      results.tenants = await measureTenants(context);
    });
  }
  if (options.only.has("streams")) {
    await phase("streams", async () => {
      log(`open SSE streams (${options.streams})`);
      results.streams = await measureStreams(context);
    });
  }
  if (options.only.has("sessions")) {
    await phase("sessions", async () => {
      log(`session storage scaling (${options.sessionSizes.join(", ")} sessions)`);
      results.sessions = await measureSessionScaling(context);
    });
  }
  if (options.only.has("append")) {
    await phase("append", async () => {
      log("transcript append cost");
      results.append = await measureAppend(context);
    });
  }
  if (options.only.has("soak")) {
    await phase("soak", async () => {
      log(`soak: ${options.soakUsers} users, ${options.soakWarmupSeconds} s warm-up + ${options.soakSeconds} s`);
      results.soak = await runSoak(context);
    });
  }
  if (options.profile) {
    await phase("profile", async () => {
      log("CPU profiles");
      results.profiles = await profileHotPaths(context);
    });
  }
  await rm(workDir, { recursive: true, force: true });

  if (options.merge) await mergePrevious(results, resultsFile);
  machine.loadAverageEnd = os.loadavg()[0] ?? 0;
  // A password in --postgres-url stays out of the report.
  const commandLine = ["npm run bench", ...(argv.length ? ["--", ...argv] : [])].join(" ").replace(/(\/\/[^:/@\s]+):[^@/\s]+@/g, "$1:***@");
  await mkdir(path.dirname(resultsFile), { recursive: true });
  // The server's address only: --postgres-url may hold a password.
  const postgresUrl = options.postgresUrl === undefined ? undefined : serverOf(options.postgresUrl);
  await writeFile(resultsFile, JSON.stringify({ ...results, options: { ...options, only: [...options.only], postgresUrl }, machine, commandLine }, null, 2));

  // The hand-written reading of the figures (profiles, causes, suggested fixes) lives beside the harness.
  const analysis = options.quick ? "" : await readFile(path.join(repoRoot, "bench", "analysis.md"), "utf8").catch(() => "");
  const { files } = await writeReport(results, machine, commandLine, analysis);
  log("targets:");
  for (const row of evaluateTargets(results)) log(`  ${row.status.padEnd(7)} ${row.figure}: ${row.measured} (target ${row.target})`);
  if (files.length) log(`wrote ${files.join(", ")}`);
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

/** `--report`: the previous run's figures and machine, with the current bench/analysis.md. */
async function rewriteReport(resultsFile: string): Promise<void> {
  const saved = JSON.parse(await readFile(resultsFile, "utf8")) as BenchResults & {
    machine: MachineInfo;
    commandLine?: string;
    options: BenchResults["options"] & { only: string[] };
  };
  const results: BenchResults = { ...saved, startedAt: new Date(saved.startedAt), options: { ...saved.options, only: new Set(saved.options.only), write: true } };
  const analysis = results.options.quick ? "" : await readFile(path.join(repoRoot, "bench", "analysis.md"), "utf8").catch(() => "");
  const { files } = await writeReport(results, saved.machine, saved.commandLine ?? "npm run bench", analysis);
  process.stdout.write(`rewrote ${files.join(", ")} from ${resultsFile}\n`);
}

/** Fills the phases this run skipped with the previous run's figures, and says so in the notes. */
async function mergePrevious(results: BenchResults, file: string): Promise<void> {
  let previous: Partial<BenchResults> & { startedAt?: string };
  try {
    previous = JSON.parse(await readFile(file, "utf8")) as typeof previous;
  } catch {
    results.notes.push("--merge: there was no previous run to merge");
    return;
  }
  const keys = ["coldStart", "idleRss", "loadedRss", "loadedRssAfterGc", "latency", "throughput", "postgres", "fairness", "tenants", "streams", "sessions", "append", "soak"] as const;
  const taken: string[] = [];
  for (const key of keys) {
    if (results[key] !== undefined || previous[key] === undefined) continue;
    (results as unknown as Record<string, unknown>)[key] = previous[key];
    taken.push(key);
  }
  if (results.profiles.length === 0 && previous.profiles?.length) {
    results.profiles = previous.profiles;
    taken.push("profiles");
  }
  if (taken.length) results.notes.push(`Figures for ${taken.join(", ")} come from the previous run (${previous.startedAt ?? "date unknown"}), merged with --merge.`);
}

main().then(
  () => process.exit(),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
