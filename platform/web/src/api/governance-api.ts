import { z } from "zod";
import type { ApiCalls } from "./composio-api";

/*
 * The organisation's governance routes (docs/platform-api.md, "Usage, budgets, statistics, audit" and
 * "Export and erasure"), mirrored from platform/src/routes/{budget,audit-log,tenant-data}.ts.
 */

/** `GET /api/budget`: the month's tokens against the organisation's own budget (`null`: none). */
export const Budget = z.object({
  monthlyTokens: z.number().nullable(),
  usedTokens: z.number(),
  remainingTokens: z.number().nullable(),
  periodStart: z.string(),
  periodEnd: z.string(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
});
export type Budget = z.infer<typeof Budget>;

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

/** Filters of `GET /api/audit`; `action` ending in "." matches every action of a noun. */
export interface AuditFilter {
  action?: string | undefined;
  actor?: string | undefined;
  /** ISO instants: at or after `since`, before `until`. */
  since?: string | undefined;
  until?: string | undefined;
}

/** The receipt `DELETE /api/tenant` answers once everything is gone. */
export const ErasureReceipt = z.object({
  tenantId: z.string(),
  organisation: z.string(),
  agents: z.number(),
  members: z.number(),
  gatewayData: z.enum(["tenant", "agents"]),
  erasedAt: z.string(),
});
export type ErasureReceipt = z.infer<typeof ErasureReceipt>;

/** How far a download has come: `total` is unknown when the server sends no length. */
export interface DownloadProgress {
  received: number;
  total: number | undefined;
}

export function governanceApi({ json, send }: ApiCalls) {
  const body = (value: unknown): RequestInit => ({ body: JSON.stringify(value) });
  return {
    budget: async () => (await json(z.object({ budget: Budget }), "/budget")).budget,
    /** Sets the monthly token budget; `null` removes it (owners and admins). */
    setBudget: async (monthlyTokens: number | null) => (await json(z.object({ budget: Budget }), "/budget", { method: "PUT", ...body({ monthlyTokens }) })).budget,
    audit: (filter: AuditFilter, cursor: string | undefined, limit = 50) => {
      const query = new URLSearchParams({ limit: String(limit) });
      if (cursor) query.set("cursor", cursor);
      for (const key of ["action", "actor", "since", "until"] as const) {
        const value = filter[key];
        if (value) query.set(key, value);
      }
      return json(AuditPage, `/audit?${query.toString()}`);
    },
    /** The organisation as one JSON file, read piece by piece so the screen can show how far it is. */
    exportTenant: async (onProgress: (progress: DownloadProgress) => void, signal?: AbortSignal) => {
      const response = await send("/tenant/export", signal ? { signal } : {});
      const length = Number(response.headers.get("content-length"));
      const total = Number.isFinite(length) && length > 0 ? length : undefined;
      const chunks: Uint8Array<ArrayBuffer>[] = [];
      let received = 0;
      onProgress({ received, total });
      const reader = response.body?.getReader();
      if (reader) {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(value);
          received += value.byteLength;
          onProgress({ received, total });
        }
      }
      const filename = /filename="?([^";]+)"?/i.exec(response.headers.get("content-disposition") ?? "")?.[1];
      return { blob: new Blob(chunks, { type: "application/json" }), filename };
    },
    /** Deletes the organisation and all its data; `confirm` must be its exact name (owners). */
    eraseTenant: async (confirm: string) => (await json(z.object({ deleted: ErasureReceipt }), "/tenant", { method: "DELETE", ...body({ confirm }) })).deleted,
  };
}
