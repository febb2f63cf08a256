import type { SecretSummary, TenantSecrets } from "../secrets/tenant-secrets";

/**
 * A stand-in for the tenant secret store until `createTenantSecrets` lands on main: values kept
 * in memory per tenant (it ignores the transaction). Tests may read `values` to check that what
 * went in is exactly what the runs get back.
 */
export function memoryTenantSecrets(): TenantSecrets & { values: Map<string, string> } {
  const values = new Map<string, string>();
  const meta = new Map<string, SecretSummary>();
  const key = (tenantId: string, name: string) => `${tenantId}\u0000${name}`;
  return {
    values,
    async put(_trx, tenantId, input) {
      const at = new Date().toISOString();
      const summary: SecretSummary = { name: input.name, kind: input.kind, hint: input.value.length >= 12 ? `…${input.value.slice(-4)}` : "set", createdAt: meta.get(key(tenantId, input.name))?.createdAt ?? at, updatedAt: at, updatedBy: input.userId ?? null };
      values.set(key(tenantId, input.name), input.value);
      meta.set(key(tenantId, input.name), summary);
      return summary;
    },
    async reveal(_trx, tenantId, name) {
      return values.get(key(tenantId, name));
    },
    async remove(_trx, tenantId, name) {
      meta.delete(key(tenantId, name));
      return values.delete(key(tenantId, name));
    },
    async removePrefix(_trx, tenantId, prefix) {
      let removed = 0;
      for (const name of [...values.keys()]) {
        if (!name.startsWith(key(tenantId, prefix))) continue;
        values.delete(name);
        meta.delete(name);
        removed++;
      }
      return removed;
    },
    async list(_trx, tenantId) {
      return [...meta.entries()].filter(([name]) => name.startsWith(`${tenantId}\u0000`)).map(([, summary]) => summary);
    },
  };
}
