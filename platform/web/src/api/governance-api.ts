import { AuditPage, BudgetView, ErasureReceipt } from "@workforce/protocol";
import { z } from "zod";
import type { ApiCalls } from "./composio-api";

export type { AuditEntry } from "@workforce/protocol";
export type Budget = BudgetView;

/** Filters of `GET /api/audit`; `action` ending in "." matches every action of a noun. */
export interface AuditFilter {
  action?: string | undefined;
  actor?: string | undefined;
  /** ISO instants: at or after `since`, before `until`. */
  since?: string | undefined;
  until?: string | undefined;
}

/** How far a download has come: `total` is unknown when the server sends no length. */
export interface DownloadProgress {
  received: number;
  total: number | undefined;
}

export function governanceApi({ json, send }: ApiCalls) {
  const body = (value: unknown): RequestInit => ({ body: JSON.stringify(value) });
  return {
    budget: async () => (await json(z.object({ budget: BudgetView }), "/budget")).budget,
    /** Sets the monthly token budget; `null` removes it (owners and admins). */
    setBudget: async (monthlyTokens: number | null) => (await json(z.object({ budget: BudgetView }), "/budget", { method: "PUT", ...body({ monthlyTokens }) })).budget,
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
