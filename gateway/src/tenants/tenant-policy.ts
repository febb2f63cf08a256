import { readFile } from "node:fs/promises";
import { AppError, describeZodError, TenantPolicy, type EffectiveTenantPolicy, type TenantLimits } from "@workforce/protocol";
import { tenantPaths, type TenantRoots } from "@workforce/protocol/tenant-path";
import { writeFileAtomic } from "../fs/atomic-write";
import { fileBytes, type DiskChange } from "../fs/disk-bytes";
import { isNotFound } from "../fs/errno";
import { fileIdentity, sameIdentity, type FileIdentity } from "../fs/file-identity";
import { KeyedLock } from "../fs/keyed-lock";
import { parseJson } from "../fs/jsonl-file";

/** The gateway's own defaults (WORKFORCE_TENANT_* unset), for tests and embedders that pass none. */
export const DEFAULT_TENANT_LIMITS: TenantLimits = { maxConcurrentRuns: 4, maxQueuedRuns: 200, monthlyTokens: null, diskBytes: 2_048 * 1024 * 1024 };

export interface TenantPoliciesOptions {
  dataDir: string;
  tenantRoots: TenantRoots;
  /** Limits of a tenant the platform never pushed a policy for (WORKFORCE_TENANT_* of the gateway). */
  defaults: TenantLimits;
  maxTenants?: number;
  /** Told how many bytes a pushed policy added to the tenant's directory (disk usage). */
  onBytesChanged?: DiskChange;
}

export interface TenantPolicies {
  /** The policy in force: pushed (`{tenant}/limits.json`), else the defaults. One stat per call. */
  get(tenantId: string): Promise<EffectiveTenantPolicy>;
  /** Stores a pushed policy unless a newer version is already stored; returns the one in force. */
  put(tenantId: string, policy: TenantPolicy): Promise<EffectiveTenantPolicy>;
  /** Refuses runs of a suspended tenant with tenant_suspended. */
  assertActive(policy: EffectiveTenantPolicy): void;
  /** Forgets what is cached about the tenant (it is being erased). */
  forget(tenantId: string): void;
}

/**
 * Tenant policies as the platform pushed them, kept in the tenant's directory so every gateway
 * on the data dir sees a change at its next use (the file's identity is checked on each read,
 * like config.json), without a restart or a message between gateways.
 */
export function createTenantPolicies(options: TenantPoliciesOptions): TenantPolicies {
  const cache = new Map<string, { identity: FileIdentity; policy: TenantPolicy }>();
  const writes = new KeyedLock();
  const maxTenants = options.maxTenants ?? 10_000;
  const defaultsOf = (): EffectiveTenantPolicy => ({ version: 0, suspended: false, suspendedReason: null, limits: options.defaults, source: "default" });

  async function readStored(tenantId: string): Promise<TenantPolicy | undefined> {
    // Through the containment check: a tenant directory or limits.json linked elsewhere is path_escape, never read.
    const file = await options.tenantRoots.existingFile(tenantId, tenantPaths(options.dataDir, tenantId).policy);
    const identity = file === undefined ? undefined : fileIdentity(file);
    if (file === undefined || !identity) {
      cache.delete(tenantId);
      return undefined;
    }
    const cached = cache.get(tenantId);
    if (cached && sameIdentity(cached.identity, identity)) return cached.policy;
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    const parsed = TenantPolicy.safeParse(parseJson(text));
    if (!parsed.success) throw new AppError("storage_unavailable", `the tenant's limits.json is damaged: ${describeZodError(parsed.error)}`);
    cache.delete(tenantId);
    cache.set(tenantId, { identity, policy: parsed.data });
    for (const oldest of cache.keys()) {
      if (cache.size <= maxTenants) break;
      cache.delete(oldest);
    }
    return parsed.data;
  }

  return {
    async get(tenantId) {
      const stored = await readStored(tenantId);
      return stored ? { ...stored, source: "pushed" } : defaultsOf();
    },

    put(tenantId, policy) {
      return writes.run(tenantId, async () => {
        const { paths } = await options.tenantRoots.ensure(tenantId);
        const stored = await readStored(tenantId);
        if (stored && stored.version > policy.version) return { ...stored, source: "pushed" as const };
        const text = `${JSON.stringify(policy, null, 2)}\n`;
        const before = await fileBytes(paths.policy);
        await writeFileAtomic(paths.policy, text);
        options.onBytesChanged?.(tenantId, Buffer.byteLength(text) - before);
        cache.delete(tenantId);
        return { ...policy, source: "pushed" as const };
      });
    },

    assertActive(policy) {
      if (!policy.suspended) return;
      const reason = policy.suspendedReason ? `: ${policy.suspendedReason}` : "";
      throw new AppError("tenant_suspended", `this organisation is suspended by the operator${reason}; its agents cannot run`);
    },

    forget(tenantId) {
      cache.delete(tenantId);
    },
  };
}
