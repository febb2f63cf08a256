/**
 * The gateway's cost per run, for comparing builds (issue 17's regression hunt): one gateway
 * (bundle, no Redis) and the fake upstream (20-token replies, no delay), C users sending back to
 * back, a new session every 10 messages (--messages-per-session 1: a new session per run, the
 * figure the issue 17 table gives for it). Prints per round the completed runs/s and the gateway's
 * CPU ms per run; with --syscalls, every syscall's count per run (strace -c -f, load-independent,
 * but it slows the gateway: quote its CPU figure from a round without it); with --profile DIR,
 * a CPU profile of the rounds summarised per function and area; with --trace FILE, every syscall
 * of the rounds with its arguments (strace -f -o FILE), to see which file each one touches.
 *
 *   npx tsx bench/gateway-cost.ts [--rounds 3] [--seconds 6] [--concurrency 10] [--messages-per-session 10] [--syscalls] [--profile DIR] [--trace FILE]
 *
 * To compare with an older commit: `git worktree add ../old <commit>`, `npm ci` there, copy this
 * file into its bench/ and run both, alternating, on a quiet machine. The first round of a fresh
 * gateway runs hot (JIT, caches); compare the later ones.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { newestProfile, nowMicros, summarizeProfile } from "./lib/profile";
import { cpuMs, killAllServices, sleep, startFake, startGateway } from "./lib/services";
import { createGatewayAgent, gatewayTarget } from "./lib/targets";
import { runLoad } from "./phases/throughput";

const { values } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    seconds: { type: "string", default: "6" },
    concurrency: { type: "string", default: "10" },
    "messages-per-session": { type: "string", default: "10" },
    syscalls: { type: "boolean", default: false },
    profile: { type: "string" },
    trace: { type: "string" },
  },
});
const rounds = Number(values.rounds);
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const messagesPerSession = Number(values["messages-per-session"]);
const hookToken = "gateway-cost-token-0123456789abcdef";

const dataDir = await mkdtemp(path.join(os.tmpdir(), "workforce-gateway-cost-"));
const fake = await startFake({ tokens: 20, tokenDelayMs: 0 });
const profileFlags = values.profile ? ["--cpu-prof", "--cpu-prof-dir", values.profile, "--cpu-prof-interval", "250"] : [];
const gateway = await startGateway({ dataDir, fakeUrl: fake.url, hookToken, env: { WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: "100" }, nodeFlags: profileFlags });
const window = { from: Infinity, to: 0 };
try {
  const tenant = await createGatewayAgent(gateway.url, hookToken);
  const target = gatewayTarget(gateway.url, tenant);
  await runLoad(target, concurrency, 2, "warm", messagesPerSession);
  await sleep(500);
  for (let round = 0; round < rounds; round += 1) {
    const straceArgs = values.trace ? ["-f", "-o", `${values.trace}.${round}`, "-e", "trace=all", "-s", "60"] : values.syscalls ? ["-c", "-f"] : undefined;
    const strace = straceArgs ? spawn("strace", [...straceArgs, "-p", String(gateway.pid)], { stdio: ["ignore", "ignore", "pipe"] }) : undefined;
    let straceReport = "";
    strace?.stderr?.on("data", (chunk: Buffer) => (straceReport += chunk.toString()));
    if (strace) await sleep(500); // attached
    const before = await cpuMs(gateway.pid);
    window.from = Math.min(window.from, nowMicros());
    const load = await runLoad(target, concurrency, seconds, `round${round}`, messagesPerSession);
    window.to = nowMicros();
    await sleep(300); // the runs' last writes
    const after = await cpuMs(gateway.pid);
    strace?.kill("SIGINT");
    if (strace) await new Promise((resolve) => strace.once("exit", resolve));
    const runs = load.completed;
    console.log(`round ${round}: ${runs} runs, ${(runs / load.seconds).toFixed(0)}/s, errors ${JSON.stringify(load.errors)}; gateway CPU ${((after - before) / runs).toFixed(2)} ms per run${strace ? " (slowed by strace)" : ""}`);
    if (strace && !values.trace) {
      const counts = [...straceReport.matchAll(/^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:\d+\s+)?(\w+)$/gm)].map((match) => [match[2]!, Number(match[1]) / runs] as const);
      console.log(`  syscalls per run: ${counts.filter(([, perRun]) => perRun >= 0.05).map(([name, perRun]) => `${name} ${perRun.toFixed(2)}`).join(", ")}`);
    }
  }
} finally {
  await gateway.stop(); // a clean exit writes the profile
  killAllServices();
  await rm(dataDir, { recursive: true, force: true });
}
if (values.profile) {
  const file = await newestProfile(values.profile);
  if (!file) throw new Error(`no profile in ${values.profile}`);
  const summary = await summarizeProfile(file, "gateway during the rounds", window, 25);
  console.log(JSON.stringify(summary, null, 1));
}
