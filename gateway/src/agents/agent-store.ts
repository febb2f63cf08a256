import { rm } from "node:fs/promises";
import { AppError, type Agent, type AgentInput, type AgentUpdate } from "@workforce/protocol";
import { ensureContainedIn, tenantPaths, TenantRoots, type TenantPaths } from "@workforce/protocol/tenant-path";
import type { z } from "zod";
import { isLockFile, treeBytes, type DiskGuard } from "../fs/disk-bytes";
import { makeDirectory } from "../fs/storage-error";
import type { FileLocks } from "../fs/file-lock";
import type { Leases } from "../coordination/leases";
import { createConfigWriters, type ConfigWriter } from "./config-writer";
import { firstFreeSlug, slugFromName } from "./agent-slug";
import { writeBootstrapFiles } from "./bootstrap-files";
import { TenantConfigCache } from "./tenant-config";

/** A validated create request (defaults applied). */
export type AgentCreate = z.output<typeof AgentInput>;

export interface AgentStoreDeps {
  dataDir: string;
  /** Serialises config.json writers per tenant, across gateway processes sharing the data dir (one host). */
  locks: FileLocks;
  /** Cluster mode (REDIS_URL): config.json writers hold the fenced lease `config:{tenantId}` instead of the lock file. */
  leases?: Leases;
  now: () => Date;
  /** Tenant roots created and checked once per tenant (shared with the session store). */
  tenantRoots?: TenantRoots;
  /** Parsed config.json per tenant, revalidated by a stat on each use. */
  configs?: TenantConfigCache;
  /** Called after an agent's files were written or removed (create, update, delete), to drop what is cached about it. */
  onAgentChanged?: (tenantId: string, slug: string) => void;
  /** Tenants' disk quotas: creating or changing an agent needs room; every write reports its bytes. */
  disk?: DiskGuard;
  /**
   * Throws storage_unavailable when TENANT_DATA_DIR is no longer the one the gateway started on
   * (createDataDirGuard). Asked before answering "no such agent" or "no agents": a lost volume
   * looks exactly like an empty tenant, and must not be reported as one.
   */
  checkDataDir?: () => void;
}

export interface AgentStore {
  list(tenantId: string): Promise<Agent[]>;
  /** Throws agent_not_found. */
  get(tenantId: string, slug: string): Promise<Agent>;
  create(tenantId: string, input: AgentCreate): Promise<Agent>;
  update(tenantId: string, slug: string, update: AgentUpdate): Promise<Agent>;
  remove(tenantId: string, slug: string): Promise<void>;
}

function notFound(slug: string): AppError {
  return new AppError("agent_not_found", `no agent "${slug}" in this tenant`);
}

/** Agents live in `{tenant}/config.json`; their bootstrap files in `{tenant}/workspace/{slug}/`. */
export function createAgentStore(deps: AgentStoreDeps): AgentStore {
  const tenantRoots = deps.tenantRoots ?? new TenantRoots(deps.dataDir);
  const configs = deps.configs ?? new TenantConfigCache();
  const withConfigWriter = createConfigWriters({ locks: deps.locks, ...(deps.leases ? { leases: deps.leases } : {}) });
  const withTenant = async <T>(tenantId: string, task: (paths: TenantPaths, realRoot: string, config: ConfigWriter) => Promise<T>): Promise<T> => {
    const { paths, realRoot } = await tenantRoots.ensure(tenantId);
    return withConfigWriter(paths, (writer) => task(paths, realRoot, writer));
  };
  const changed = (tenantId: string, slug: string) => deps.onAgentChanged?.(tenantId, slug);
  /** Room for an agent's definition: it lands in config.json and again, rendered, in its bootstrap files. */
  const assertRoomFor = (tenantId: string, agent: Agent) => deps.disk?.assertRoom(tenantId, 2 * Buffer.byteLength(JSON.stringify(agent)));
  const grew = (tenantId: string, bytes: number) => deps.disk?.changed(tenantId, bytes);

  return {
    async list(tenantId) {
      const config = await configs.read(tenantPaths(deps.dataDir, tenantId));
      if (config.agents.length === 0) deps.checkDataDir?.();
      return config.agents;
    },

    async get(tenantId, slug) {
      const paths = tenantPaths(deps.dataDir, tenantId);
      paths.agent(slug);
      const config = await configs.read(paths);
      const agent = config.agents.find((candidate) => candidate.slug === slug);
      if (!agent) {
        deps.checkDataDir?.();
        throw notFound(slug);
      }
      return agent;
    },

    async create(tenantId, input) {
      const derived = input.slug === undefined ? await slugFromName(input.name) : undefined;
      // Under the tenant's lock (across gateway processes): two creates of "Ada" get "ada" and "ada-2".
      return withTenant(tenantId, async (paths, realRoot, writer) => {
        const config = await writer.read();
        const taken = new Set(config.agents.map((agent) => agent.slug));
        if (input.slug !== undefined && taken.has(input.slug)) {
          throw new AppError("agent_exists", `an agent with slug "${input.slug}" already exists in this tenant`);
        }
        const slug = input.slug ?? firstFreeSlug(derived ?? "agent", taken);
        const agentPaths = paths.agent(slug);
        const at = deps.now().toISOString();
        const agent: Agent = {
          slug,
          name: input.name,
          role: input.role,
          persona: input.persona,
          instructions: input.instructions,
          emoji: input.emoji,
          model: input.model ? input.model : null,
          createdAt: at,
          updatedAt: at,
        };
        await assertRoomFor(tenantId, agent);
        await writer.check();
        await makeDirectory(paths.workspaceDir);
        await makeDirectory(agentPaths.sessionsDir);
        await ensureContainedIn(realRoot, agentPaths.sessionsDir);
        grew(tenantId, await writeBootstrapFiles(paths.root, agentPaths, agent));
        changed(tenantId, slug);
        grew(tenantId, await writer.write({ ...config, agents: [...config.agents, agent] }));
        return agent;
      });
    },

    async update(tenantId, slug, update) {
      return withTenant(tenantId, async (paths, _realRoot, writer) => {
        const agentPaths = paths.agent(slug);
        const config = await writer.read();
        const current = config.agents.find((agent) => agent.slug === slug);
        if (!current) throw notFound(slug);
        const next: Agent = {
          ...current,
          ...(update.name === undefined ? {} : { name: update.name }),
          ...(update.role === undefined ? {} : { role: update.role }),
          ...(update.persona === undefined ? {} : { persona: update.persona }),
          ...(update.instructions === undefined ? {} : { instructions: update.instructions }),
          ...(update.emoji === undefined ? {} : { emoji: update.emoji }),
          ...(update.model === undefined ? {} : { model: update.model ? update.model : null }),
          updatedAt: deps.now().toISOString(),
        };
        await assertRoomFor(tenantId, next);
        await writer.check();
        grew(tenantId, await writeBootstrapFiles(paths.root, agentPaths, next));
        changed(tenantId, slug);
        grew(tenantId, await writer.write({ ...config, agents: config.agents.map((agent) => (agent.slug === slug ? next : agent)) }));
        return next;
      });
    },

    async remove(tenantId, slug) {
      await withTenant(tenantId, async (paths, realRoot, writer) => {
        const agentPaths = paths.agent(slug);
        const config = await writer.read();
        if (!config.agents.some((agent) => agent.slug === slug)) throw notFound(slug);
        grew(tenantId, await writer.write({ ...config, agents: config.agents.filter((agent) => agent.slug !== slug) }));
        changed(tenantId, slug);
        for (const dir of [agentPaths.dir, agentPaths.workspace]) {
          const contained = await ensureContainedIn(realRoot, dir);
          // As the disk figure counts them: lock files only in agents/{slug}, not in the workspace.
          const bytes = await treeBytes(contained, dir === agentPaths.dir ? { ignore: isLockFile } : {});
          await rm(contained, { recursive: true, force: true });
          grew(tenantId, -bytes);
        }
      });
    },
  };
}

