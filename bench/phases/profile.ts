/**
 * CPU profiles of the child processes (node --cpu-prof), summarised per function and per area:
 * the gateway and the platform under a c=10 chat load (only samples inside the load window
 * count), and the platform's and gateway's start-up.
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import path from "node:path";
import type { BenchContext, ProfileSummary } from "../lib/context";
import { newestProfile, nowMicros, summarizeProfile } from "../lib/profile";
import { freePort, spawnService, startGateway, waitHealthy } from "../lib/services";
import { startBenchSystem } from "../lib/system";
import { createGatewayAgent, createPlatformUser, gatewayTarget, platformTarget } from "../lib/targets";
import { runLoad } from "./throughput";

export async function profileHotPaths(context: BenchContext): Promise<ProfileSummary[]> {
  const { options, log } = context;
  const root = path.join(context.workDir, "profiles");
  const gatewayDir = path.join(root, "gateway-load");
  const platformDir = path.join(root, "platform-load");
  await mkdir(gatewayDir, { recursive: true });
  await mkdir(platformDir, { recursive: true });
  const flags = (dir: string) => ["--cpu-prof", "--cpu-prof-dir", dir, "--cpu-prof-interval", "250"];
  const summaries: ProfileSummary[] = [];
  const seconds = Math.max(3, options.throughputSeconds);

  const system = await startBenchSystem({ fake: { tokens: options.tokens, tokenDelayMs: 0 }, gatewayFlags: flags(gatewayDir), platformFlags: flags(platformDir) });
  let gatewayWindow: { from: number; to: number };
  let platformWindow: { from: number; to: number };
  let gatewayRuns = 0;
  let platformRuns = 0;
  try {
    const tenant = await createGatewayAgent(system.gateway.url, system.hookToken);
    const user = await createPlatformUser(system.platform!.url);
    const gateway = gatewayTarget(system.gateway.url, tenant);
    const platform = platformTarget(system.platform!.url, user);
    await runLoad(gateway, 10, 1, "profile-warm", options.messagesPerSession);
    await runLoad(platform, 10, 1, "profile-warm", options.messagesPerSession);
    let from = nowMicros();
    gatewayRuns = (await runLoad(gateway, 10, seconds, "profile", options.messagesPerSession)).completed;
    gatewayWindow = { from, to: nowMicros() };
    from = nowMicros();
    platformRuns = (await runLoad(platform, 10, seconds, "profile", options.messagesPerSession)).completed;
    platformWindow = { from, to: nowMicros() };
  } finally {
    await system.stop();
  }
  const gatewayProfile = await newestProfile(gatewayDir);
  const platformProfile = await newestProfile(platformDir);
  if (gatewayProfile) {
    summaries.push(await summarizeProfile(gatewayProfile, `gateway CPU during ${gatewayRuns} runs at c=10 sent to the gateway directly`, gatewayWindow));
    summaries.push(await summarizeProfile(gatewayProfile, `gateway CPU during ${platformRuns} runs at c=10 sent through the platform`, platformWindow));
  }
  if (platformProfile) summaries.push(await summarizeProfile(platformProfile, `platform CPU during ${platformRuns} runs at c=10`, platformWindow));

  // Start-up: from process start until the health route answers (the process is stopped right after).
  const startDir = await mkdtemp(path.join(root, "start-"));
  const dataDir = await mkdtemp(path.join(root, "tenants-"));
  const pgliteDir = await mkdtemp(path.join(root, "db-"));
  const gatewayStartDir = path.join(startDir, "gateway");
  const gatewayStarted = await startGateway({ dataDir, hookToken: "profile-token", nodeFlags: flags(gatewayStartDir) });
  const port = await freePort();
  const platformStartDir = path.join(startDir, "platform");
  const platformStarted = spawnService("platform", "platform/src/main.ts", [], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: "127.0.0.1",
      CLAWDBOT_GATEWAY_URL: gatewayStarted.url,
      CLAWDBOT_HOOK_TOKEN: "profile-token",
      TENANT_DATA_DIR: dataDir,
      PGLITE_DATA_DIR: pgliteDir,
    },
    nodeFlags: flags(platformStartDir),
  });
  await waitHealthy(`http://127.0.0.1:${port}/api/health`, platformStarted, 60_000, 5);
  await platformStarted.stop();
  await gatewayStarted.stop();
  const gatewayStartProfile = await newestProfile(gatewayStartDir);
  const platformStartProfile = await newestProfile(platformStartDir);
  if (gatewayStartProfile) summaries.push(await summarizeProfile(gatewayStartProfile, "gateway start-up (whole process life: start, health, stop)"));
  if (platformStartProfile) summaries.push(await summarizeProfile(platformStartProfile, "platform start-up with a fresh PGlite directory (whole process life)"));
  await rm(dataDir, { recursive: true, force: true });
  await rm(pgliteDir, { recursive: true, force: true });
  for (const summary of summaries) log(`  ${summary.title}: ${summary.totalMs.toFixed(0)} ms CPU; top areas ${summary.byArea.slice(0, 4).map((area) => `${area.area} ${area.percent.toFixed(0)}%`).join(", ")}`);
  return summaries;
}
