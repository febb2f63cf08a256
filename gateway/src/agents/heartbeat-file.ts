import { readFile } from "node:fs/promises";
import { HEARTBEAT_FILE, isHeartbeatFileEmpty, type HeartbeatFile } from "@workforce/protocol";
import { ensureContained, type AgentPaths, type TenantRoots } from "@workforce/protocol/tenant-path";
import { writeFileAtomic } from "../fs/atomic-write";
import { fileBytes, type DiskGuard } from "../fs/disk-bytes";
import { isNotFound } from "../fs/errno";
import type { AgentStore } from "./agent-store";

/*
 * HEARTBEAT.md lives in the agent's workspace beside its bootstrap files (bootstrap-files.ts), but
 * is not one of them: it is not in every run's system prompt, only in heartbeat runs'. Nobody
 * creates it; it belongs to the agent (its write_file tool) and to the organisation's admins (the
 * platform, through `PUT /v1/agents/:slug/heartbeat`). Without it, heartbeats are skipped.
 */

/** The agent's HEARTBEAT.md, or undefined when it has none. */
export async function readHeartbeatText(tenantRoot: string, paths: AgentPaths): Promise<string | undefined> {
  try {
    return await readFile(await ensureContained(tenantRoot, paths.workspaceFile(HEARTBEAT_FILE)), "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

const describe = (text: string | undefined): HeartbeatFile => ({ content: text ?? "", exists: text !== undefined, empty: isHeartbeatFileEmpty(text ?? "") });

export interface HeartbeatFiles {
  /** Throws agent_not_found. */
  read(tenantId: string, slug: string): Promise<HeartbeatFile>;
  /** Replaces the file (atomically, within the tenant's disk quota); throws agent_not_found. */
  write(tenantId: string, slug: string, content: string): Promise<HeartbeatFile>;
}

export function createHeartbeatFiles(deps: { agents: Pick<AgentStore, "get">; tenantRoots: TenantRoots; disk?: DiskGuard | undefined }): HeartbeatFiles {
  const agentOf = async (tenantId: string, slug: string) => {
    await deps.agents.get(tenantId, slug);
    const tenant = await deps.tenantRoots.ensure(tenantId);
    return { root: tenant.realRoot, paths: tenant.paths.agent(slug) };
  };
  return {
    async read(tenantId, slug) {
      const { root, paths } = await agentOf(tenantId, slug);
      return describe(await readHeartbeatText(root, paths));
    },
    async write(tenantId, slug, content) {
      const { root, paths } = await agentOf(tenantId, slug);
      const target = await ensureContained(root, paths.workspaceFile(HEARTBEAT_FILE));
      const growth = Buffer.byteLength(content) - (await fileBytes(target));
      await deps.disk?.assertRoom(tenantId, growth);
      await writeFileAtomic(target, content);
      deps.disk?.changed(tenantId, growth);
      return describe(content);
    },
  };
}
