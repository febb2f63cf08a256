import { readFile } from "node:fs/promises";
import { AppError, Agent, describeZodError } from "@workforce/protocol";
import type { TenantPaths } from "@workforce/protocol/tenant-path";
import { z } from "zod";
import { writeFileAtomic } from "../fs/atomic-write";
import { isNotFound } from "../fs/errno";
import { parseJson } from "../fs/jsonl-file";

/** `{tenant}/config.json`: the tenant's agents and settings. The gateway is its only writer. */
export const TenantConfig = z.object({
  version: z.literal(1),
  tenantId: z.string(),
  settings: z.record(z.string(), z.unknown()).default({}),
  agents: z.array(Agent),
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
    throw new AppError("storage_unavailable", `tenant config ${paths.config} is damaged: ${describeZodError(parsed.error)}`);
  }
  return parsed.data;
}

export async function writeTenantConfig(paths: TenantPaths, config: TenantConfig): Promise<void> {
  await writeFileAtomic(paths.config, JSON.stringify(config, null, 2) + "\n");
}
