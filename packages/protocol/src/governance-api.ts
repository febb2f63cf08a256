import { z } from "zod";

/*
 * Answers of the platform's governance routes (docs/platform-api.md, "Budgets", "Audit log",
 * "Export and erasure"): one definition for the OpenAPI document and the web app.
 */

/** `GET`/`PUT /api/budget`: the month's tokens against the organisation's own budget (`null`: none). */
export const BudgetView = z.object({
  monthlyTokens: z.number().nullable(),
  usedTokens: z.number(),
  remainingTokens: z.number().nullable(),
  periodStart: z.string(),
  periodEnd: z.string(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
export type BudgetView = z.infer<typeof BudgetView>;

/** One entry of `GET /api/audit`; `actor.email` is null for people no longer in the organisation. */
export const AuditEntry = z.object({
  id: z.string(),
  action: z.string(),
  target: z.string(),
  actor: z.object({ type: z.enum(["user", "api-key"]), id: z.string().nullable(), email: z.string().nullable() }),
  details: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});
export type AuditEntry = z.infer<typeof AuditEntry>;

export const AuditPage = z.object({ entries: z.array(AuditEntry), nextCursor: z.string().nullable() });
export type AuditPage = z.infer<typeof AuditPage>;

/** The receipt `DELETE /api/tenant` answers once the organisation is gone. */
export const ErasureReceipt = z.object({
  tenantId: z.string(),
  /** The organisation's name. */
  organisation: z.string(),
  agents: z.number(),
  /** Memberships removed (the people keep their accounts). */
  members: z.number(),
  /** `tenant`: the gateway erased the tenant's whole directory; `agents`: each agent was deleted. */
  gatewayData: z.enum(["tenant", "agents"]),
  erasedAt: z.string(),
});
export type ErasureReceipt = z.infer<typeof ErasureReceipt>;
