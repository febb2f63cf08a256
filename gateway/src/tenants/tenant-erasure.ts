import { rm } from "node:fs/promises";
import path from "node:path";
import { AppError } from "@workforce/protocol";
import { assertAbsoluteDataDir, ensureContained, tenantPaths } from "@workforce/protocol/tenant-path";
import type { Logger } from "../logger";
import type { RunManager } from "../runs/run-manager";
import type { SessionStore } from "../sessions/session-store";

export interface TenantErasureDeps {
  dataDir: string;
  runs: Pick<RunManager, "abortTenant">;
  sessions: Pick<SessionStore, "forgetTenant">;
  logger: Logger;
  /** Drops what the gateway caches about the tenant's files (root, config, system prompts); called before and after removal. */
  forgetCached?: (tenantId: string) => void;
}

/** Erases everything the gateway holds for one tenant; safe to repeat, a no-op when nothing exists. */
export type EraseTenant = (tenantId: string) => Promise<void>;

/**
 * In order: stops the tenant's runs and waits for them to end (so none writes afterwards), drops
 * its cached session registries without writing them, then removes `TENANT_DATA_DIR/{tenant}`.
 * What the gateway caches about the tenant's files (its checked root, config.json, system prompts)
 * is dropped too, before and after the removal.
 */
export function createTenantErasure(deps: TenantErasureDeps): EraseTenant {
  return async (tenantId) => {
    const paths = tenantPaths(deps.dataDir, tenantId);
    const aborted = await deps.runs.abortTenant(tenantId);
    await deps.sessions.forgetTenant(tenantId);
    deps.forgetCached?.(tenantId);
    const dataDir = assertAbsoluteDataDir(deps.dataDir);
    const root = await ensureContained(dataDir, paths.root);
    // Contained is not enough: a tenant root symlinked to another tenant's directory resolves inside the data dir too.
    if (root !== path.join(await ensureContained(dataDir, dataDir), path.basename(paths.root))) {
      throw new AppError("path_escape", "the tenant's directory resolves to another location; remove it by hand");
    }
    await rm(root, { recursive: true, force: true, maxRetries: 3 });
    deps.forgetCached?.(tenantId);
    deps.logger.info(`erased tenant ${tenantId} (${aborted} run(s) aborted)`);
  };
}
