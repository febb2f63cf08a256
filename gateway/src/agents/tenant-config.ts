import { readFile } from "node:fs/promises";
import { AppError, Agent, describeZodError } from "@workforce/protocol";
import type { TenantPaths } from "@workforce/protocol/tenant-path";
import { z } from "zod";
import { writeFileAtomic } from "../fs/atomic-write";
import { fileBytes } from "../fs/disk-bytes";
import { isNotFound } from "../fs/errno";
import { fileIdentity, sameIdentity, type FileIdentity } from "../fs/file-identity";
import { parseJson } from "../fs/jsonl-file";

/** `{tenant}/config.json`: the tenant's agents and settings. The gateway is its only writer. */
export const TenantConfig = z.object({
  version: z.literal(1),
  tenantId: z.string(),
  settings: z.record(z.string(), z.unknown()).default({}),
  agents: z.array(Agent),
  /**
   * Cluster mode: the fencing token of the writer's `config:{tenantId}` lease (docs/decisions/026).
   * A writer holding an older token refuses to replace the file. Absent when written on one host.
   */
  fence: z.number().int().nonnegative().optional(),
});
export type TenantConfig = z.infer<typeof TenantConfig>;

export async function readTenantConfig(paths: TenantPaths): Promise<TenantConfig> {
  let text: string;
  try {
    text = await readFile(paths.config, "utf8");
  } catch (error) {
    if (isNotFound(error)) return { version: 1, tenantId: paths.tenantId, settings: {}, agents: [] };
    throw error;
  }
  const parsed = TenantConfig.safeParse(parseJson(text));
  if (!parsed.success) {
    // Named relative to the tenant's directory: the absolute data dir is no business of the client's.
    throw new AppError("storage_unavailable", `the tenant's config.json is damaged: ${describeZodError(parsed.error)}`);
  }
  return parsed.data;
}

/**
 * Tenant configs as last read, checked against the file's identity (one stat) on every use, so
 * agent lookups on the run path skip reading and validating config.json while a change made by
 * any writer (this process, another gateway, a hand edit) is seen at once. Bounded LRU.
 */
export class TenantConfigCache {
  private readonly entries = new Map<string, { identity: FileIdentity; config: TenantConfig }>();

  constructor(private readonly maxTenants = 10_000) {}

  /** The tenant's config (treat it as read-only). */
  async read(paths: TenantPaths): Promise<TenantConfig> {
    const identity = fileIdentity(paths.config);
    const cached = this.entries.get(paths.tenantId);
    this.entries.delete(paths.tenantId);
    if (!identity) return readTenantConfig(paths);
    if (cached && sameIdentity(cached.identity, identity)) {
      this.entries.set(paths.tenantId, cached);
      return cached.config;
    }
    // Stat taken before the read: a write racing with it shows up as a different identity next time.
    const config = await readTenantConfig(paths);
    this.entries.set(paths.tenantId, { identity, config });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxTenants) break;
      this.entries.delete(oldest);
    }
    return config;
  }

  forget(tenantId: string): void {
    this.entries.delete(tenantId);
  }
}

/**
 * Replaces config.json atomically; returns how many bytes it grew (negative when it shrank).
 * `beforeRename` is the fenced writer's last check, just before the new file replaces the old.
 */
export async function writeTenantConfig(paths: TenantPaths, config: TenantConfig, beforeRename?: () => Promise<void>): Promise<number> {
  const text = JSON.stringify(config, null, 2) + "\n";
  const before = await fileBytes(paths.config);
  await writeFileAtomic(paths.config, text, 0o600, beforeRename ? { beforeRename } : {});
  return Buffer.byteLength(text) - before;
}
