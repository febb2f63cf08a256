import type { SystemTransaction, TenantTransaction } from "./schema";

export interface AuditEntry {
  tenantId: string;
  actor: { userId: string | null; apiKeyId: string | null };
  /** `<noun>.<verb>`, e.g. `agent.create`, `member.role_change`. */
  action: string;
  /** What was acted on: a slug, user id, key id… */
  target: string;
  details?: Record<string, unknown>;
}

/** Appends to the tenant's audit log inside the same transaction as the change it records. */
export async function audit(trx: TenantTransaction | SystemTransaction, entry: AuditEntry): Promise<void> {
  await trx
    .insertInto("audit_log")
    .values({
      tenant_id: entry.tenantId,
      actor_user_id: entry.actor.userId,
      actor_api_key_id: entry.actor.apiKeyId,
      action: entry.action,
      target: entry.target,
      details: JSON.stringify(entry.details ?? {}),
    })
    .execute();
}
