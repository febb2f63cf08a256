/**
 * The cluster the chaos test runs against, all real processes on this machine: 3 gateways and 2
 * platforms (the built bundles) on one shared TENANT_DATA_DIR, a fresh database on the real
 * Postgres, a Redis database index of their own, and the fake model upstream (in this process,
 * one per gateway slot, counting model requests per message). Platforms reach the gateways through a round-robin
 * balancer (`lb`), or additionally get REDIS_URL to route over the gateways' membership list
 * (`membership`, once the platform implements it).
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream } from "@workforce/fake-upstream";
import pg from "pg";
import { createClient } from "redis";
import { FAKE_API_KEY, freePort, startGateway, startPlatform, type GatewayService, type PlatformService } from "../../bench/lib/services";
import { answeredMessage } from "./chat-user";
import { startRoundRobinProxy, type RoundRobinProxy } from "./round-robin-proxy";
import { isTitleRequest } from "../title-request";

export type Via = "lb" | "membership";

export interface ClusterOptions {
  gateways: number;
  platforms: number;
  via: Via;
  /** Deltas per model reply and the pause before each (the fake upstream's pacing). */
  tokens: number;
  tokenDelayMs: number;
  postgresUrl: string;
  redisUrl: string;
  /** Only requests answering a chaos message (see answeredMessage) are counted as runs (a title or summary request is not: see isTitleRequest). */
  messagePrefix: string;
  log: (line: string) => void;
}

export interface GatewaySlot {
  index: number;
  port: number;
  url: string;
  service: GatewayService | undefined;
  /** The fake upstream this slot's gateways call. */
  fakeUrl: string;
  /** When this slot's gateway last asked the model for a reply to a chaos message (ms since epoch). */
  lastModelRequestAt: number;
}

export interface ChaosCluster {
  dataDir: string;
  platforms: PlatformService[];
  gateways: GatewaySlot[];
  proxy: RoundRobinProxy;
  /** Model requests per message text (the last user message). */
  modelRequests: Map<string, number>;
  redisUrl: string;
  hookToken: string;
  /** SIGKILLs the gateway in `slot`, then starts a new process on the same port and data. */
  killAndRestart(slot: GatewaySlot): Promise<void>;
  /** Stops every service the way an operator does (SIGTERM), gateways last. */
  stopServices(): Promise<void>;
  /** Keys in the cluster's Redis database matching `pattern`. */
  redisKeys(pattern: string): Promise<string[]>;
  /** Closes the fakes and the balancer, drops the database, deletes the cluster's Redis keys, removes the data dir. */
  destroy(): Promise<void>;
}

const CLAIM_KEY = "chaos:claimed-by";

/** Picks an empty Redis database index (1-15) and claims it, so the gateways' default key prefix is ours alone. */
async function claimRedisDatabase(baseUrl: string, runId: string): Promise<string> {
  for (let index = 1; index < 16; index += 1) {
    const client = createClient({ url: baseUrl, database: index });
    await client.connect();
    try {
      if ((await client.dbSize()) === 0 && (await client.set(CLAIM_KEY, runId, { NX: true, EX: 3_600 })) === "OK") {
        const url = new URL(baseUrl);
        url.pathname = `/${index}`;
        return url.toString();
      }
    } finally {
      await client.close();
    }
  }
  throw new Error(`no empty Redis database index at ${baseUrl} for the chaos cluster`);
}

async function postgresAdmin<T>(postgresUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function startChaosCluster(options: ClusterOptions): Promise<ChaosCluster> {
  const runId = randomUUID().slice(0, 8);
  const hookToken = `chaos-${randomUUID()}`;
  const tmp = await mkdtemp(path.join(os.tmpdir(), "wf-chaos-"));
  const dataDir = path.join(tmp, "tenants");
  const database = `chaos_${runId}`;
  const cleanups: (() => Promise<unknown>)[] = [() => rm(tmp, { recursive: true, force: true })];
  const destroy = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => options.log(`cleanup failed: ${String(error)}`));
  };

  try {
    await postgresAdmin(options.postgresUrl, (client) => client.query(`create database ${database}`));
    cleanups.push(() => postgresAdmin(options.postgresUrl, (client) => client.query(`drop database if exists ${database} with (force)`)));
    const databaseUrl = new URL(options.postgresUrl);
    databaseUrl.pathname = `/${database}`;

    const redisUrl = await claimRedisDatabase(options.redisUrl, runId);
    const redis = createClient({ url: redisUrl });
    await redis.connect();
    cleanups.push(async () => {
      // Only what the gateways (default prefix) and this harness wrote, should anyone else share the index.
      for await (const keys of redis.scanIterator({ MATCH: "workforce:*", COUNT: 500 })) if (keys.length > 0) await redis.del(keys);
      await redis.del(CLAIM_KEY);
      await redis.close();
    });

    const modelRequests = new Map<string, number>();
    // One fake upstream per gateway slot, all counting into one map: the harness then knows which
    // gateway is streaming a reply right now (the kill loop prefers those).
    const fakeFor = (slot: GatewaySlot) =>
      startFakeUpstream({
        apiKey: FAKE_API_KEY,
        tokens: options.tokens,
        tokenDelayMs: options.tokenDelayMs,
        recordRequests: false,
        respond: (request) => {
          if (isTitleRequest(request)) return undefined;
          const message = answeredMessage(options.messagePrefix, request.lastUserText);
          if (!message) return undefined;
          modelRequests.set(message, (modelRequests.get(message) ?? 0) + 1);
          slot.lastModelRequestAt = Date.now();
          return undefined;
        },
      });

    const gateways: GatewaySlot[] = [];
    for (let index = 0; index < options.gateways; index += 1) {
      const port = await freePort();
      const slot: GatewaySlot = { index, port, url: `http://127.0.0.1:${port}`, service: undefined, fakeUrl: "", lastModelRequestAt: 0 };
      const fake = await fakeFor(slot);
      cleanups.push(() => fake.close());
      slot.fakeUrl = fake.url;
      gateways.push(slot);
    }
    const proxy = await startRoundRobinProxy(() => gateways.map((slot) => slot.port));
    cleanups.push(() => proxy.close());

    const sharedEnv = { WORKFORCE_SECRET_KEY_FILE: path.join(tmp, "secret.key"), LOG_LEVEL: "warn" };
    const startSlot = async (slot: GatewaySlot) => {
      slot.service = await startGateway({
        dataDir,
        fakeUrl: slot.fakeUrl,
        hookToken,
        port: slot.port,
        env: {
          ...sharedEnv,
          REDIS_URL: redisUrl,
          GATEWAY_ADVERTISE_URL: slot.url,
          WORKFORCE_MAX_CONCURRENT_RUNS: "256",
          WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: "16",
        },
      });
    };
    cleanups.push(async () => {
      for (const slot of gateways) await slot.service?.kill();
    });
    for (const slot of gateways) await startSlot(slot);

    const platforms: PlatformService[] = [];
    cleanups.push(async () => {
      for (const platform of platforms) await platform.kill();
    });
    // One after the other: the first migrates the fresh database.
    for (let index = 0; index < options.platforms; index += 1) {
      platforms.push(
        await startPlatform({
          gatewayUrl: proxy.url,
          hookToken,
          dataDir,
          pgliteDir: path.join(tmp, `unused-pglite-${index}`),
          env: {
            ...sharedEnv,
            DATABASE_URL: databaseUrl.toString(),
            // Behind one address, as behind a real balancer: the token issuer is the same, so a
            // token from one platform is good on the other.
            PUBLIC_URL: "http://workforce-chaos.localhost",
            WORKFORCE_TRUST_PROXY: "1",
            WORKFORCE_DEFAULT_MONTHLY_TOKENS: "unlimited",
            WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: "16",
            ...(options.via === "membership" ? { REDIS_URL: redisUrl } : {}),
          },
        }),
      );
    }

    return {
      dataDir,
      platforms,
      gateways,
      proxy,
      modelRequests,
      redisUrl,
      hookToken,
      async killAndRestart(slot) {
        await slot.service?.kill();
        slot.service = undefined;
        await startSlot(slot);
      },
      async stopServices() {
        for (const platform of platforms) await platform.stop(10_000);
        for (const slot of gateways) await slot.service?.stop(10_000);
      },
      async redisKeys(pattern) {
        const keys: string[] = [];
        for await (const batch of redis.scanIterator({ MATCH: pattern, COUNT: 500 })) keys.push(...batch);
        return keys;
      },
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}
