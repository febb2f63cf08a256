import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AgentInput } from "@workforce/protocol";
import { lockOwnersDirPath, tenantPaths } from "@workforce/protocol/tenant-path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { createRedisLeases } from "../coordination/adapters/redis-leases";
import { newRedisClient, type RedisClient } from "../coordination/redis-connection";
import type { DiskGuard } from "../fs/disk-bytes";
import { createFileLocks } from "../fs/file-lock";
import { silentLogger } from "../logger";
import { deleteRedisKeys, REDIS_URL, redisForTests } from "../test-support/redis";
import { createAgentStore, type AgentStore } from "./agent-store";
import { TenantConfig } from "./tenant-config";

const reachable = await redisForTests("fenced agent config tests");

const TENANT = "77777777-7777-4777-8777-777777777777";
const prefix = `workforce-test:${randomUUID()}:`;
let dataDir: string;
const cleanups: (() => Promise<void> | void)[] = [];

/** One gateway's agent store in cluster mode: its own Redis connection, leases and lock owner on the shared data dir. */
async function gateway(memberId: string, disk?: DiskGuard): Promise<{ agents: AgentStore; client: RedisClient }> {
  const client = newRedisClient(REDIS_URL, () => undefined);
  await client.connect();
  const leases = createRedisLeases({ client, memberId, keyPrefix: prefix, ttlMs: 5_000, logger: silentLogger });
  const locks = createFileLocks({ logger: silentLogger, ownerDir: lockOwnersDirPath(dataDir) });
  cleanups.push(async () => {
    await leases.close();
    locks.close();
    if (client.isOpen) client.destroy();
  });
  return { agents: createAgentStore({ dataDir, locks, leases, now: () => new Date(), ...(disk ? { disk } : {}) }), client };
}

const configOnDisk = async () => TenantConfig.parse(JSON.parse(await readFile(tenantPaths(dataDir, TENANT).config, "utf8")));
const input = (name: string) => AgentInput.parse({ name, role: "Helper" });

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-fenced-config-"));
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await rm(dataDir, { recursive: true, force: true });
});
afterAll(async () => {
  if (reachable) await deleteRedisKeys(prefix);
});

describe.skipIf(!reachable)("agent config writers in cluster mode", () => {
  it("loses no agent when two gateways create agents of one tenant at once, and records the writer's fence", async () => {
    const [a, b] = [await gateway("gw-a"), await gateway("gw-b")];
    const created = await Promise.all(Array.from({ length: 8 }, (_, index) => (index % 2 === 0 ? a : b).agents.create(TENANT, input("Ada"))));
    const slugs = created.map((agent) => agent.slug).sort();
    expect(new Set(slugs).size).toBe(8);
    expect((await a.agents.list(TENANT)).map((agent) => agent.slug).sort()).toEqual(slugs);
    expect((await b.agents.list(TENANT)).map((agent) => agent.slug).sort()).toEqual(slugs);
    expect((await configOnDisk()).fence).toBeGreaterThan(0);
  });

  it("refuses a stalled ex-holder's update after a newer holder rewrote config.json: neither config.json nor the bootstrap files change", async () => {
    let resume: () => void = () => undefined;
    const resumed = new Promise<void>((resolve) => (resume = resolve));
    let entered: () => void = () => undefined;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let stall = false;
    // Gateway A stalls inside its config lease, where it checks the disk quota before writing.
    const stallingDisk: DiskGuard = {
      assertRoom: async () => {
        if (!stall) return;
        entered();
        await resumed;
      },
      changed: () => undefined,
    };
    const a = await gateway("gw-a", stallingDisk);
    const b = await gateway("gw-b");
    await a.agents.create(TENANT, input("Ada"));
    stall = true;
    const late = a.agents.update(TENANT, "ada", { name: "Stale name" });
    await inside;
    // A's lease expires (its key vanishes from Redis); B takes the lease over and writes.
    await a.client.del(`${prefix}lease:config:${TENANT}`);
    await b.agents.update(TENANT, "ada", { name: "Newer name" });
    const written = await configOnDisk();
    resume();

    await expect(late).rejects.toMatchObject({ code: "storage_unavailable", retryable: true });
    expect(await configOnDisk()).toEqual(written);
    expect(written.agents.map((agent) => agent.name)).toEqual(["Newer name"]);
    const identity = await readFile(path.join(tenantPaths(dataDir, TENANT).agent("ada").workspace, "IDENTITY.md"), "utf8");
    expect(identity).toContain("Newer name");
    expect((await a.agents.get(TENANT, "ada")).name).toBe("Newer name");
  });

  it("refuses to write over a config.json that records a newer fence than its lease's", async () => {
    const a = await gateway("gw-a");
    await a.agents.create(TENANT, input("Ada"));
    const paths = tenantPaths(dataDir, TENANT);
    const recorded = await configOnDisk();
    const future = { ...recorded, fence: (recorded.fence ?? 0) + 1_000_000_000 };
    await writeFile(paths.config, JSON.stringify(future, null, 2));
    await expect(a.agents.create(TENANT, input("Bob"))).rejects.toMatchObject({ code: "storage_unavailable" });
    expect((await configOnDisk()).agents.map((agent) => agent.slug)).toEqual(["ada"]);
  });
});
