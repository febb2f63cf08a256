/**
 * The per-run figures docs/scaling.md multiplies up, measured in one short run (~30 s) rather
 * than the full bench: one gateway (bundle) with REDIS_URL on a private redis-server, the fake
 * upstream (20-token replies, no delay), C users sending back to back for a few seconds, a new
 * session every 10 messages. Reports per completed run: gateway CPU, Redis commands (by name,
 * from INFO commandstats) and Redis CPU, fsync/fdatasync calls of the gateway (strace -c), and
 * the bytes it left: transcript lines by kind, registry entries, Redis memory per retained run.
 *
 *   npx tsx bench/scaling-costs.ts [--seconds 8] [--concurrency 10] [--fsyncs]
 *
 * Needs redis-server and redis-cli. --fsyncs counts the gateway's fsync calls with strace, which
 * slows the gateway: its CPU figure is then not the one to quote.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { cpuMs, freePort, killAllServices, sleep, startFake, startGateway } from "./lib/services";
import { createGatewayAgent, gatewayTarget } from "./lib/targets";
import { runLoad } from "./phases/throughput";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "8" }, concurrency: { type: "string", default: "10" }, fsyncs: { type: "boolean", default: false } } });
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const hookToken = "scaling-costs-token-0123456789";

const redisPort = await freePort();
const redis = spawn("redis-server", ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
const cli = (...args: string[]) => spawnSync("redis-cli", ["-p", String(redisPort), ...args], { encoding: "utf8" }).stdout;
for (let attempt = 0; !cli("ping").includes("PONG"); attempt += 1) {
  if (attempt > 100) throw new Error("redis-server did not start");
  await sleep(50);
}

/** INFO commandstats as { command: calls }. */
function commandCalls(): Record<string, number> {
  return Object.fromEntries([...cli("info", "commandstats").matchAll(/^cmdstat_([\w|]+):calls=(\d+)/gm)].map((match) => [match[1]!, Number(match[2])]));
}

const dataDir = await mkdtemp(path.join(os.tmpdir(), "workforce-scaling-"));
const fake = await startFake({ tokens: 20, tokenDelayMs: 0 });
const gateway = await startGateway({ dataDir, fakeUrl: fake.url, hookToken, env: { REDIS_URL: `redis://127.0.0.1:${redisPort}`, WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: "100" } });
try {
  const tenant = await createGatewayAgent(gateway.url, hookToken);
  const target = gatewayTarget(gateway.url, tenant);
  await runLoad(target, concurrency, 2, "warm", 10);
  await sleep(500);

  const strace = values.fsyncs ? spawn("strace", ["-c", "-f", "-e", "trace=fsync,fdatasync", "-p", String(gateway.pid)], { stdio: ["ignore", "ignore", "pipe"] }) : undefined;
  let straceReport = "";
  strace?.stderr?.on("data", (chunk: Buffer) => (straceReport += chunk.toString()));
  await sleep(300);
  const before = { calls: commandCalls(), gatewayCpu: await cpuMs(gateway.pid), redisCpu: await cpuMs(redis.pid!) };
  const load = await runLoad(target, concurrency, seconds, "measured", 10);
  await sleep(500); // fire-and-forget relay writes land
  const after = { calls: commandCalls(), gatewayCpu: await cpuMs(gateway.pid), redisCpu: await cpuMs(redis.pid!) };
  strace?.kill("SIGINT");
  if (strace) await new Promise((resolve) => strace.once("exit", resolve));

  const runs = load.completed;
  const perRun = (value: number) => (value / runs).toFixed(2);
  console.log(`runs: ${runs} in ${load.seconds.toFixed(1)} s (${(runs / load.seconds).toFixed(0)}/s, c=${concurrency}), errors ${JSON.stringify(load.errors)}`);
  console.log(`gateway CPU per run: ${perRun(after.gatewayCpu - before.gatewayCpu)} ms; redis-server CPU per run: ${perRun(after.redisCpu - before.redisCpu)} ms`);
  const commands = Object.entries(after.calls)
    .map(([name, calls]) => [name, calls - (before.calls[name] ?? 0)] as const)
    .filter(([name, calls]) => calls > 0 && name !== "info")
    .sort((a, b) => b[1] - a[1]);
  console.log(`Redis commands per run: ${perRun(commands.reduce((sum, [, calls]) => sum + calls, 0))} (${commands.map(([name, calls]) => `${name} ${perRun(calls)}`).join(", ")})`);
  const syncs = [...straceReport.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(fsync|fdatasync)$/gm)].map((match) => `${match[2]} ${perRun(Number(match[1]))}`);
  if (strace) console.log(`fsync calls per run (gateway, strace; CPU above inflated by it): ${syncs.join(", ") || "none seen"}`);

  // What a run leaves on disk and in Redis.
  const tenantDir = path.join(dataDir, tenant.tenantId);
  const sessionsDir = path.join(tenantDir, "agents", tenant.slug, "sessions");
  const lines: Record<string, { count: number; bytes: number }> = {};
  let transcripts = 0;
  for (const file of (await readdir(sessionsDir)).filter((name) => /^[\w-]+\.jsonl$/.test(name) && !name.startsWith("sessions."))) {
    transcripts += 1;
    for (const line of (await readFile(path.join(sessionsDir, file), "utf8")).split("\n").filter(Boolean)) {
      const kind = (JSON.parse(line) as { type: string }).type;
      const entry = (lines[kind] ??= { count: 0, bytes: 0 });
      entry.count += 1;
      entry.bytes += Buffer.byteLength(line) + 1;
    }
  }
  console.log(`transcripts: ${transcripts}; bytes per line: ${Object.entries(lines).map(([kind, entry]) => `${kind} ${(entry.bytes / entry.count).toFixed(0)}`).join(", ")}`);
  const registry = await stat(path.join(sessionsDir, "sessions.json")).catch(() => undefined);
  if (registry) console.log(`sessions.json: ${registry.size} bytes for ${transcripts} sessions (${(registry.size / transcripts).toFixed(0)} per entry)`);
  const usage = await stat(path.join(tenantDir, "usage.jsonl")).catch(() => undefined);
  if (usage) console.log(`usage.jsonl: ${(usage.size / (runs + 1)).toFixed(0)} bytes per run (approx.)`);
  const eventKeys = cli("--scan", "--pattern", "*:events").split("\n").filter(Boolean);
  const sample = eventKeys.slice(0, 50);
  const bytes = sample.map((key) => Number(cli("memory", "usage", key)) + Number(cli("memory", "usage", key.replace(/:events$/, ":info"))));
  console.log(`Redis: ${eventKeys.length} retained runs; memory per run (events stream + info, mean of ${sample.length}): ${(bytes.reduce((a, b) => a + b, 0) / sample.length).toFixed(0)} bytes; XLEN of one: ${cli("xlen", sample[0] ?? "none").trim()}`);
} finally {
  killAllServices();
  redis.kill("SIGTERM");
  await rm(dataDir, { recursive: true, force: true });
}
