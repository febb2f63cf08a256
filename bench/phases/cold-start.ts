/**
 * Cold start: process start → health route answers 200, polled every 5 ms. Each attempt uses
 * fresh data directories (the first start a user sees). The gateway alone, the platform alone
 * (fresh and restarted PGlite, gateway already up), and `npm start`'s launcher. Services run as
 * `npm start` runs them: `node <bundle>`; the bundles and the PGlite template are built before
 * any clock starts (as `npm install` does), and a fresh PGlite directory is copied from the template.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { BenchContext, ColdStartResult } from "../lib/context";
import { PLATFORM_BUNDLE } from "../../scripts/lib/build";
import { ensureServiceBundles, FAKE_API_KEY, freePort, repoRoot, sleep, spawnService, startGateway, waitHealthy, type ChildService } from "../lib/services";
import { summarize } from "../lib/stats";

async function timeUntilHealthy(url: string, service: ChildService, started: number): Promise<number> {
  await waitHealthy(url, service, 60_000, 5);
  return performance.now() - started;
}

export async function measureColdStart(context: BenchContext, fakeUrl: string): Promise<ColdStartResult> {
  const { options, log } = context;
  const scratch = await mkdtemp(path.join(os.tmpdir(), "wf-bench-cold-"));
  const hookToken = "bench-cold-start-token";
  const gatewayTimes: number[] = [];
  await ensureServiceBundles();
  // One unmeasured start first, so the file-system cache is warm like on any second start.
  for (let attempt = -1; attempt < options.coldStartRepeats; attempt += 1) {
    const dataDir = await mkdtemp(path.join(scratch, "tenants-"));
    const started = performance.now();
    const gateway = await startGateway({ dataDir, fakeUrl, hookToken, noWait: true });
    const elapsed = await timeUntilHealthy(`${gateway.url}/`, gateway, started);
    if (attempt >= 0) gatewayTimes.push(elapsed);
    await gateway.stop();
  }
  log(`  gateway alone: ${gatewayTimes.map((ms) => ms.toFixed(0)).join(", ")} ms`);

  // The platform alone, its gateway already up: with a new PGlite directory, and restarted on it.
  const platformFresh: number[] = [];
  const platformRestart: number[] = [];
  const dataDir = await mkdtemp(path.join(scratch, "tenants-"));
  const gateway = await startGateway({ dataDir, fakeUrl, hookToken });
  for (let attempt = 0; attempt < (options.coldStartAll ? options.coldStartRepeats : 0); attempt += 1) {
    const pgliteDir = await mkdtemp(path.join(scratch, "db-"));
    for (const times of [platformFresh, platformRestart]) {
      const port = await freePort();
      const started = performance.now();
      const platform = spawnService("platform", PLATFORM_BUNDLE, [], {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          PORT: String(port),
          HOST: "127.0.0.1",
          CLAWDBOT_GATEWAY_URL: gateway.url,
          CLAWDBOT_HOOK_TOKEN: hookToken,
          TENANT_DATA_DIR: dataDir,
          PGLITE_DATA_DIR: pgliteDir,
        },
      });
      times.push(await timeUntilHealthy(`http://127.0.0.1:${port}/api/health`, platform, started));
      await platform.stop();
    }
    await rm(pgliteDir, { recursive: true, force: true });
  }
  await gateway.stop();
  log(`  platform alone: fresh ${platformFresh.map((ms) => ms.toFixed(0)).join(", ")} ms; restart ${platformRestart.map((ms) => ms.toFixed(0)).join(", ")} ms`);

  // The launcher, as `npm start` runs it (node scripts/launch.js: the launcher's bundle, up to date here).
  const launcher: number[] = [];
  const launcherGateway: number[] = [];
  for (let attempt = 0; attempt < options.coldStartRepeats; attempt += 1) {
    const { started, gatewayReady, ready, stop } = await startLauncher(scratch, fakeUrl, false);
    launcher.push(ready - started);
    launcherGateway.push(gatewayReady - started);
    await stop();
  }
  log(`  launcher: ${launcher.map((ms) => ms.toFixed(0)).join(", ")} ms`);

  // `npm start` itself once, npm's own start-up included.
  let npmStart: number | undefined;
  if (options.coldStartAll) {
    try {
      const { started, ready, stop } = await startLauncher(scratch, fakeUrl, true);
      npmStart = ready - started;
      await stop();
      log(`  npm start: ${npmStart.toFixed(0)} ms`);
    } catch (error) {
      context.results.notes.push(`\`npm start\` could not be timed: ${String(error)}`);
    }
  }
  await rm(scratch, { recursive: true, force: true });
  return {
    gateway: summarize(gatewayTimes),
    launcher: summarize(launcher),
    launcherGatewayReady: summarize(launcherGateway),
    platformFresh: summarize(platformFresh),
    platformRestart: summarize(platformRestart),
    npmStart,
  };
}

async function startLauncher(scratch: string, fakeUrl: string, viaNpm: boolean) {
  const [platformPort, gatewayPort] = [await freePort(), await freePort()];
  const tenants = await mkdtemp(path.join(scratch, "tenants-"));
  const db = await mkdtemp(path.join(scratch, "db-"));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: "1",
    PORT: String(platformPort),
    CLAWDBOT_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
    CLAWDBOT_HOOK_TOKEN: "bench-cold-start-token",
    TENANT_DATA_DIR: tenants,
    PGLITE_DATA_DIR: db,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    ANTHROPIC_BASE_URL: fakeUrl,
  };
  const started = performance.now();
  const child = viaNpm
    ? spawn("npm", ["start", "--silent"], { cwd: repoRoot, env, stdio: "ignore", detached: true })
    : spawn(process.execPath, [path.join(repoRoot, "scripts", "launch.js")], { cwd: repoRoot, env, stdio: "ignore", detached: true });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const poll = async (url: string): Promise<number> => {
    const deadline = Date.now() + 60_000;
    while (!gone && Date.now() < deadline) {
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
        await response.body?.cancel();
        if (response.ok) return performance.now();
      } catch {
        // not yet
      }
      await sleep(5);
    }
    throw new Error(`the launcher did not become healthy at ${url}`);
  };
  const [gatewayReady, ready] = await Promise.all([poll(`http://127.0.0.1:${gatewayPort}/`), poll(`http://127.0.0.1:${platformPort}/api/health`)]);
  return {
    started,
    gatewayReady,
    ready,
    stop: async () => {
      if (child.pid !== undefined && !gone) process.kill(-child.pid, "SIGINT");
      const timer = setTimeout(() => child.pid !== undefined && !gone && process.kill(-child.pid, "SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      await sleep(200);
      await rm(tenants, { recursive: true, force: true });
      await rm(db, { recursive: true, force: true });
    },
  };
}
