import { APPROVALS_SSE_EVENT, SSE_HEARTBEAT, type ApprovalsChanged } from "@workforce/protocol";
import type { Database } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { StreamLease } from "../limits/stream-leases";
import type { StreamHeartbeat } from "../sse-proxy";
import { approvalRows, approvalView, type ApprovalRow } from "./approval-store";

/*
 * Live approvals for the web app (`GET /api/approvals/events`). Any platform process may have
 * recorded or decided an approval, so each process polls the database: once per organisation
 * however many browsers of it listen, every `pollMs` while one does. Each read is compared with
 * the last; every listener hears the changes it may see, and its pending count whenever it moves.
 */

/** Decided approvals re-read each time, besides all pending ones: the window in which a change is noticed. */
const RECENT = 50;
const MAX_PENDING = 1_000;

export interface ApprovalsWatcherOptions {
  db: Database;
  /** How often an organisation with listeners is read again (default 1 s). */
  pollMs?: number;
  logError: (message: string, error: unknown) => void;
}

interface Listener {
  /** Whether this listener may see the approval (its own sessions', or everyone's). */
  sees: (row: ApprovalRow) => boolean;
  send: (message: ApprovalsChanged) => void;
  /** The count it was last told; undefined until its first message. */
  told: number | undefined;
}

interface Watched {
  listeners: Set<Listener>;
  /** Each approval's last read state; undefined before the first read. */
  stamps: Map<string, string> | undefined;
  timer: ReturnType<typeof setInterval> | undefined;
  reading: Promise<void> | undefined;
}

const stampOf = (row: ApprovalRow) => `${row.status}|${row.resume_run_id ?? ""}|${row.resume_error ?? ""}|${new Date(row.updated_at).getTime()}`;

export function createApprovalsWatcher(options: ApprovalsWatcherOptions) {
  const pollMs = options.pollMs ?? 1_000;
  const watched = new Map<string, Watched>();

  /** One statement, so one snapshot: an approval decided meanwhile is either still pending or decided, never both. */
  async function read(tenantId: string): Promise<ApprovalRow[]> {
    return withTenant(options.db, tenantId, (trx) => {
      const recent = trx.selectFrom("approvals").select("id").where("tenant_id", "=", tenantId).where("status", "<>", "pending").orderBy("updated_at", "desc").limit(RECENT);
      return approvalRows(trx, tenantId)
        .where((eb) => eb.or([eb("approvals.status", "=", "pending"), eb("approvals.id", "in", recent)]))
        .orderBy("approvals.requested_at")
        .limit(MAX_PENDING + RECENT)
        .execute();
    });
  }

  async function poll(tenantId: string, entry: Watched): Promise<void> {
    const rows = await read(tenantId);
    const previous = entry.stamps;
    entry.stamps = new Map(rows.map((row) => [row.id, stampOf(row)]));
    const changed = previous ? rows.filter((row) => previous.get(row.id) !== stampOf(row)) : [];
    for (const listener of entry.listeners) {
      const pending = rows.filter((row) => row.status === "pending" && listener.sees(row)).length;
      const theirs = changed.filter(listener.sees);
      if (listener.told === pending && theirs.length === 0) continue;
      listener.told = pending;
      listener.send({ pending, changed: theirs.map(approvalView) });
    }
  }

  function pollNow(tenantId: string, entry: Watched): void {
    if (entry.reading) return;
    entry.reading = poll(tenantId, entry)
      .catch((error: unknown) => options.logError(`could not read the approvals of tenant ${tenantId} for live updates`, error))
      .finally(() => {
        entry.reading = undefined;
      });
  }

  return {
    /** Tells `send` the pending count now and whenever what `sees` covers changes; returns the unsubscribe. */
    subscribe(tenantId: string, sees: Listener["sees"], send: Listener["send"]): () => void {
      let entry = watched.get(tenantId);
      if (!entry) {
        entry = { listeners: new Set(), stamps: undefined, timer: undefined, reading: undefined };
        watched.set(tenantId, entry);
      }
      const current = entry;
      const listener: Listener = { sees, send, told: undefined };
      current.listeners.add(listener);
      if (!current.timer) {
        current.timer = setInterval(() => pollNow(tenantId, current), pollMs);
        current.timer.unref();
      }
      // Its first message (the count) comes with the next read, which starts now unless one is under way.
      pollNow(tenantId, current);
      return () => {
        current.listeners.delete(listener);
        if (current.listeners.size > 0) return;
        clearInterval(current.timer);
        watched.delete(tenantId);
      };
    },
    /** Organisations being watched by this process (tests, metrics). */
    get watching(): number {
      return watched.size;
    },
    close(): void {
      for (const entry of watched.values()) clearInterval(entry.timer);
      watched.clear();
    },
  };
}

export type ApprovalsWatcher = ReturnType<typeof createApprovalsWatcher>;

const encoder = new TextEncoder();

/** The SSE response of one listener: a message per change, the shared heartbeat between; its stream place is freed when it closes. */
export function approvalEventStream(options: {
  subscribe: (send: (message: ApprovalsChanged) => void) => () => void;
  heartbeat: StreamHeartbeat;
  lease: StreamLease;
  logError: (message: string, error: unknown) => void;
}): Response {
  let unsubscribe: (() => void) | undefined;
  let open = true;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const write = (text: string) => {
    if (!open) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      void close();
    }
  };
  const beat = () => write(SSE_HEARTBEAT);
  function close(): Promise<void> {
    if (!open) return Promise.resolve();
    open = false;
    unsubscribe?.();
    options.heartbeat.delete(beat);
    return options.lease.release().catch((error: unknown) => options.logError("could not release a stream lease (it expires on its own)", error));
  }
  const body = new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
      unsubscribe = options.subscribe((message) => write(`event: ${APPROVALS_SSE_EVENT}\ndata: ${JSON.stringify(message)}\n\n`));
      options.heartbeat.add(beat);
    },
    cancel: close,
  });
  return new Response(body, { status: 200, headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-transform", "x-accel-buffering": "no" } });
}
