import { APPROVALS_SSE_EVENT, ApprovalsChanged, SseParser, type ApprovalView } from "@workforce/protocol";
import { useEffect, useSyncExternalStore } from "react";
import type { ApiClient } from "../api/client";

/** What the app knows live about the selected organisation's approvals. */
export interface ApprovalsLiveState {
  tenantId: string | undefined;
  /** Pending approvals the user may decide; undefined until the first message. */
  pending: number | undefined;
  /** Bumped on every change (a message, or a decision made here): lists read again when it moves. */
  version: number;
  /** What changed last. */
  changed: ApprovalView[];
}

const EMPTY: ApprovalsLiveState = { tenantId: undefined, pending: undefined, version: 0, changed: [] };

/**
 * One live connection per tab to `GET /api/approvals/events` (fetch streaming with the bearer
 * token, like the chat), shared by the navigation's count, the inbox, the Work tab and the chat's
 * approval cards. It runs while any of them is mounted, reconnects with backoff, and follows the
 * selected organisation.
 */
export function createApprovalsLive(deps: { api: Pick<ApiClient, "approvals">; maxBackoffMs?: number }) {
  let state = EMPTY;
  const listeners = new Set<() => void>();
  const holders = new Map<string, number>();
  let current: { tenantId: string; controller: AbortController } | undefined;

  function set(next: ApprovalsLiveState): void {
    state = next;
    for (const listener of listeners) listener();
  }

  async function follow(tenantId: string, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        const response = await deps.api.approvals.events(signal);
        const reader = response.body?.getReader();
        if (!reader) throw new Error("no body");
        const parser = new SseParser();
        const decoder = new TextDecoder();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            if (message.event !== APPROVALS_SSE_EVENT) continue;
            const parsed = ApprovalsChanged.safeParse(JSON.parse(message.data));
            if (!parsed.success || signal.aborted) continue;
            failures = 0;
            set({ tenantId, pending: parsed.data.pending, version: state.version + 1, changed: parsed.data.changed });
          }
        }
      } catch {
        if (signal.aborted) return;
      }
      failures += 1;
      await new Promise((resolve) => setTimeout(resolve, Math.min(deps.maxBackoffMs ?? 30_000, 500 * 2 ** Math.min(failures, 8))));
    }
  }

  function reconcile(): void {
    const wanted = [...holders.keys()].at(-1);
    if (current?.tenantId === wanted) return;
    current?.controller.abort();
    current = undefined;
    if (state.tenantId !== wanted) set({ ...EMPTY, version: state.version + 1, tenantId: wanted });
    if (!wanted) return;
    const controller = new AbortController();
    current = { tenantId: wanted, controller };
    void follow(wanted, controller.signal);
  }

  return {
    subscribe: (listener: () => void): (() => void) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    getState: (): ApprovalsLiveState => state,
    /** Keeps the connection to this organisation open until the returned function is called. */
    watch(tenantId: string): () => void {
      // The latest watched organisation is the one followed (re-inserted to move it last).
      const count = holders.get(tenantId) ?? 0;
      holders.delete(tenantId);
      holders.set(tenantId, count + 1);
      reconcile();
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (holders.get(tenantId) ?? 1) - 1;
        if (left > 0) holders.set(tenantId, left);
        else holders.delete(tenantId);
        reconcile();
      };
    },
    /** Something was decided here: lists read again now rather than at the next message. */
    touched(): void {
      set({ ...state, version: state.version + 1 });
    },
    /** Signing out: drop everything. */
    reset(): void {
      holders.clear();
      reconcile();
      set(EMPTY);
    },
  };
}

export type ApprovalsLive = ReturnType<typeof createApprovalsLive>;

/** The live approvals of `tenantId`, kept open while the calling component is mounted. */
export function useApprovalsLive(live: ApprovalsLive, tenantId: string | undefined): ApprovalsLiveState {
  useEffect(() => (tenantId ? live.watch(tenantId) : undefined), [live, tenantId]);
  return useSyncExternalStore(live.subscribe, live.getState);
}
