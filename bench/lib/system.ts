import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFake, startGateway, startPlatform, type FakeDefaults, type FakeService, type GatewayService, type PlatformService } from "./services";

export interface BenchSystem {
  fake: FakeService;
  gateway: GatewayService;
  platform: PlatformService | undefined;
  hookToken: string;
  dataDir: string;
  pgliteDir: string;
  /**
   * Starts one more platform in front of the same gateway, with the same tenant limits (e.g. on
   * the Postgres server through `env.DATABASE_URL`); `stop()` stops it too.
   */
  addPlatform(options: { name: string; env: NodeJS.ProcessEnv; nodeFlags?: string[] }): Promise<PlatformService>;
  stop(): Promise<void>;
}

export interface BenchSystemOptions {
  fake?: FakeDefaults;
  withPlatform?: boolean;
  gatewayEnv?: NodeJS.ProcessEnv;
  /** More environment for the platform (the gateway's WORKFORCE_TENANT_* are passed on in any case). */
  platformEnv?: NodeJS.ProcessEnv;
  gatewayFlags?: string[];
  platformFlags?: string[];
  probe?: boolean;
  /** Put TENANT_DATA_DIR here instead of a fresh directory under the OS temp dir. */
  dataDir?: string;
}

/**
 * Most phases measure what the gateway itself costs with one tenant (or one platform user) doing
 * all the work, so the per-tenant limits are lifted to the gateway-wide ones; the fairness phase
 * sets its own.
 */
const SINGLE_TENANT_LIMITS = { WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: "10000", WORKFORCE_TENANT_MAX_QUEUED_RUNS: "100000" };

/** Fake upstream + gateway (+ platform) as child processes on temporary data directories. */
export async function startBenchSystem(options: BenchSystemOptions = {}): Promise<BenchSystem> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "wf-bench-tenants-")));
  const pgliteDir = await mkdtemp(path.join(os.tmpdir(), "wf-bench-db-"));
  const hookToken = `bench-${randomUUID()}`;
  const fake = await startFake(options.fake ?? {});
  const gatewayEnv = { ...SINGLE_TENANT_LIMITS, ...options.gatewayEnv };
  const platformEnv = Object.fromEntries(Object.entries(gatewayEnv).filter(([name]) => name.startsWith("WORKFORCE_TENANT_")));
  let gateway: GatewayService | undefined;
  let platform: PlatformService | undefined;
  try {
    gateway = await startGateway({
      dataDir,
      fakeUrl: fake.url,
      hookToken,
      env: gatewayEnv,
      ...(options.gatewayFlags ? { nodeFlags: options.gatewayFlags } : {}),
      ...(options.probe ? { probe: true } : {}),
    });
    if (options.withPlatform !== false) {
      platform = await startPlatform({
        gatewayUrl: gateway.url,
        hookToken,
        dataDir,
        pgliteDir,
        // The platform pushes every organisation's policy to the gateway: the same limits, or the
        // platform's defaults would replace the gateway's.
        env: { ...platformEnv, ...options.platformEnv },
        ...(options.platformFlags ? { nodeFlags: options.platformFlags } : {}),
        ...(options.probe ? { probe: true } : {}),
      });
    }
  } catch (error) {
    await gateway?.stop();
    await fake.stop();
    throw error;
  }
  const started = gateway;
  const added: PlatformService[] = [];
  const extraDirs: string[] = [];
  return {
    fake,
    gateway: started,
    platform,
    hookToken,
    dataDir,
    pgliteDir,
    async addPlatform(extra) {
      // Its own embedded database directory (unused when env sets DATABASE_URL).
      const ownDir = await mkdtemp(path.join(os.tmpdir(), "wf-bench-db-"));
      extraDirs.push(ownDir);
      const service = await startPlatform({
        gatewayUrl: started.url,
        hookToken,
        dataDir,
        pgliteDir: ownDir,
        name: extra.name,
        env: { ...platformEnv, ...options.platformEnv, ...extra.env },
        ...(extra.nodeFlags ? { nodeFlags: extra.nodeFlags } : {}),
        ...(options.probe ? { probe: true } : {}),
      });
      added.push(service);
      return service;
    },
    async stop() {
      for (const service of added) await service.stop();
      await platform?.stop();
      await started.stop();
      await fake.stop();
      if (!options.dataDir) await rm(dataDir, { recursive: true, force: true });
      for (const dir of [pgliteDir, ...extraDirs]) await rm(dir, { recursive: true, force: true });
    },
  };
}
