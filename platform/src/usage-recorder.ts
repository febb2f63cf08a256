import type { Database } from "./db/schema";
import { withTenant } from "./db/scopes";
import { TtlCache } from "./ttl-cache";

/** One finished run's token usage, as a `usage_events` row. */
export interface UsageRecord {
  tenantId: string;
  userId: string | null;
  apiKeyId: string | null;
  agentSlug: string;
  runId: string;
  status: string;
  inputTokens: number;
  outputTokens: number;
  /** When the run ended (the row's created_at, so a deferred insert counts in the right month). */
  at: Date;
}

interface Queued {
  record: UsageRecord;
  attempts: number;
}

/** A row the database keeps refusing is given up after this many tries (and logged). */
const MAX_ATTEMPTS = 5;

export interface UsageRecorderOptions {
  db: Database;
  logError: (message: string, error: unknown) => void;
  /** How long a record may wait for others to share its insert. Default 1 s. */
  flushDelayMs?: number;
  /** A batch this large is written at once. Default 200. */
  maxBatch?: number;
  /** Records kept while the database refuses them; beyond this the oldest are dropped (and logged). Default 100,000. */
  maxPending?: number;
}

/**
 * Writes usage at the end of runs in batches, off the streaming path: records wait up to
 * `flushDelayMs` and then go in one multi-row insert per tenant, each in that tenant's
 * row-level-security transaction. A failed batch is kept and retried with the next one, so
 * usage is not lost while the process stays up (a run's row is unique, repeats do nothing).
 * Readers of usage call `flush` first to see their own runs.
 */
export function createUsageRecorder(options: UsageRecorderOptions) {
  const delayMs = options.flushDelayMs ?? 1_000;
  const maxBatch = options.maxBatch ?? 200;
  const maxPending = options.maxPending ?? 100_000;
  let queue: Queued[] = [];
  /** Tokens per tenant not yet committed (queued or being written): the budget check adds them. */
  const uncommitted = new Map<string, number>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let failing = false;
  /** Runs recorded lately: a resumed stream sees the same run-end again. */
  const recent = new TtlCache<string, true>(50_000);

  const addUncommitted = (record: UsageRecord, sign: 1 | -1) => {
    const total = (uncommitted.get(record.tenantId) ?? 0) + sign * (record.inputTokens + record.outputTokens);
    if (total <= 0) uncommitted.delete(record.tenantId);
    else uncommitted.set(record.tenantId, total);
  };

  const insert = (tenantId: string, records: UsageRecord[]) =>
    withTenant(options.db, tenantId, (trx) =>
      trx
        .insertInto("usage_events")
        .values(
          records.map((record) => ({
            tenant_id: tenantId,
            user_id: record.userId,
            api_key_id: record.apiKeyId,
            agent_slug: record.agentSlug,
            run_id: record.runId,
            status: record.status,
            input_tokens: record.inputTokens,
            output_tokens: record.outputTokens,
            created_at: record.at,
          })),
        )
        .onConflict((conflict) => conflict.columns(["tenant_id", "run_id"]).doNothing())
        .execute(),
    );

  async function write(batch: Queued[]): Promise<void> {
    const byTenant = new Map<string, Queued[]>();
    for (const queued of batch) {
      const list = byTenant.get(queued.record.tenantId);
      if (list) list.push(queued);
      else byTenant.set(queued.record.tenantId, [queued]);
    }
    const failed: Queued[] = [];
    let lastError: unknown;
    for (const [tenantId, list] of byTenant) {
      try {
        await insert(tenantId, list.map((queued) => queued.record));
        for (const queued of list) addUncommitted(queued.record, -1);
        continue;
      } catch (error) {
        lastError = error;
      }
      // One bad row (say, its user was deleted meanwhile) must not hold back the others.
      for (const queued of list) {
        try {
          await insert(tenantId, [queued.record]);
          addUncommitted(queued.record, -1);
        } catch (error) {
          lastError = error;
          if (queued.attempts + 1 < MAX_ATTEMPTS) failed.push({ record: queued.record, attempts: queued.attempts + 1 });
          else {
            addUncommitted(queued.record, -1);
            options.logError(`gave up recording the usage of run ${queued.record.runId} after ${MAX_ATTEMPTS} attempts`, error);
          }
        }
      }
    }
    if (failed.length > 0 && !failing) options.logError(`could not record the usage of ${failed.length} run(s); will retry`, lastError);
    failing = failed.length > 0;
    if (failed.length > 0) {
      queue = [...failed, ...queue];
      const dropped = queue.length - maxPending;
      if (dropped > 0) {
        for (const queued of queue.splice(0, dropped)) addUncommitted(queued.record, -1);
        options.logError(`dropped the usage of ${dropped} run(s): the database refused them for too long`, lastError);
      }
      schedule(Math.max(delayMs, 1_000));
    }
  }

  /** Writes everything queued now; concurrent calls share the write in progress and then write what came after. */
  function flush(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (inFlight) return inFlight.then(() => (queue.length > 0 ? flush() : undefined));
    if (queue.length === 0) return Promise.resolve();
    const batch = queue;
    queue = [];
    inFlight = write(batch).finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  function schedule(ms: number): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, ms);
    timer.unref();
  }

  return {
    /**
     * Queues a run's usage; it is written within `flushDelayMs` (sooner when the batch fills).
     * False when this run was recorded lately (the database would ignore it anyway).
     */
    record(record: UsageRecord): boolean {
      const key = `${record.tenantId}/${record.runId}`;
      const at = Date.now();
      if (recent.get(key, at)) return false;
      recent.set(key, true, at + 10 * 60_000);
      queue.push({ record, attempts: 0 });
      addUncommitted(record, 1);
      if (queue.length >= maxBatch && !inFlight) void flush();
      else schedule(delayMs);
      return true;
    },

    /** Tokens of this tenant's runs that ended but are not in the database yet. */
    uncommittedTokens(tenantId: string): number {
      return uncommitted.get(tenantId) ?? 0;
    },

    flush,

    /** Records waiting to be written (queued, not counting a batch being written). */
    get pending(): number {
      return queue.length;
    },
  };
}

export type UsageRecorder = ReturnType<typeof createUsageRecorder>;
