import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { SystemDatabase, SystemTransaction, TenantTransaction } from "../db/schema";
import { withSystem } from "../db/scopes";

/*
 * The platform's durable job queue (issue 15, decision 035): one `jobs` table every platform
 * process works from. A runner claims due jobs with `FOR UPDATE SKIP LOCKED`, so two processes
 * never take the same job; a claimed job carries a lease, and a process that dies mid-job leaves
 * it to be claimed again when the lease runs out. Handlers must therefore be idempotent (they are
 * run at least once; what they do outside Postgres carries the job's id as an idempotency key).
 * Every time here is the injected clock's, never the database's, so tests run in fake time.
 */

/** A job as its handler sees it. */
export interface Job {
  id: string;
  tenantId: string | null;
  kind: string;
  key: string | null;
  payload: Record<string, unknown>;
  /** 1 on the first run. */
  attempt: number;
  maxAttempts: number;
  /** When it was due. */
  runAt: Date;
}

/**
 * What a handler answers: nothing (done), `{ again }` (run it again then, as a fresh job: periodic
 * work and polling), or `{ retryAt }` (not done yet; counts as an attempt). Throwing retries with
 * exponential backoff until `maxAttempts`, then the job is `dead` (kept, with its last error).
 */
export type JobResult = void | { again: Date } | { retryAt: Date; error?: string };
export type JobHandler = (job: Job) => Promise<JobResult>;

export interface EnqueueJob {
  kind: string;
  /** The organisation it is for (RLS); null: the platform's own work (system transactions only). */
  tenantId: string | null;
  /** Dedupe: a second job of this kind and key is not added while the first is kept. */
  key?: string;
  payload?: Record<string, unknown>;
  /** When it is due; now when absent. */
  runAt: Date;
  maxAttempts?: number;
}

const KIND_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

/**
 * Adds a job in the caller's transaction (tenant or system): it exists exactly when what caused it
 * commits. Answers whether it was added (false: a job of this kind and key is already kept).
 */
export async function enqueueJob(trx: TenantTransaction | SystemTransaction, job: EnqueueJob): Promise<boolean> {
  if (!KIND_PATTERN.test(job.kind)) throw new Error(`enqueueJob: bad job kind "${job.kind}"`);
  const result = await trx
    .insertInto("jobs")
    .values({
      tenant_id: job.tenantId,
      kind: job.kind,
      key: job.key ?? null,
      payload: JSON.stringify(job.payload ?? {}),
      run_at: job.runAt,
      ...(job.maxAttempts === undefined ? {} : { max_attempts: job.maxAttempts }),
    })
    .onConflict((conflict) => conflict.columns(["kind", "key"]).where("key", "is not", null).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export interface JobRunnerOptions {
  system: SystemDatabase;
  now: () => Date;
  logError: (message: string, error: unknown) => void;
  /** This process's name in `locked_by` (default host:pid:random). */
  workerId?: string;
  /** How often an idle runner looks for due jobs (default 1 s). */
  pollMs?: number;
  /** Jobs claimed per pass (default 20), and at most this many of one organisation (default 4): a flood from one waits its turn. */
  batch?: number;
  perTenant?: number;
  /** Jobs run at once by this process (default 8). */
  concurrency?: number;
  /** How long a claimed job is this process's before others may take it again (default 5 min). */
  leaseMs?: number;
  /** Finished jobs are deleted after this long (default 7 days). */
  keepFinishedMs?: number;
}

export interface JobRunner {
  /** Handles jobs of this kind (register before `start`). */
  register(kind: string, handler: JobHandler): void;
  /**
   * Runs `handler` every `everyMs`, once across all processes (one job row of this kind, which
   * re-enqueues itself). First due `firstMs` after the row is created (default: at once).
   */
  every(kind: string, everyMs: number, handler: () => Promise<void>, firstMs?: number): void;
  /** One pass: claims and runs every job due now (at the injected clock), until none is left; answers how many ran. */
  runDue(): Promise<number>;
  start(): void;
  /** Stops claiming and waits for the jobs running here. */
  stop(): Promise<void>;
}

interface ClaimedRow {
  id: string;
  tenant_id: string | null;
  kind: string;
  key: string | null;
  payload: Record<string, unknown> | string;
  attempts: number;
  max_attempts: number;
  run_at: Date | string;
}

/** Backoff after the n-th failed attempt: 10 s, 20 s, 40 s … capped at 1 hour. */
export function backoffMs(attempt: number): number {
  return Math.min(10_000 * 2 ** Math.max(0, attempt - 1), 3_600_000);
}

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pollMs = options.pollMs ?? 1_000;
  const batch = options.batch ?? 20;
  const perTenant = options.perTenant ?? 4;
  const concurrency = Math.max(1, options.concurrency ?? 8);
  const leaseMs = options.leaseMs ?? 300_000;
  const keepFinishedMs = options.keepFinishedMs ?? 7 * 24 * 3_600_000;
  const handlers = new Map<string, JobHandler>();
  const periodic: { kind: string; firstMs: number }[] = [];
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let pass: Promise<number> | undefined;
  let seeded = false;

  function register(kind: string, handler: JobHandler): void {
    if (!KIND_PATTERN.test(kind)) throw new Error(`job kind "${kind}" must match ${KIND_PATTERN}`);
    if (handlers.has(kind)) throw new Error(`job kind "${kind}" is registered twice`);
    handlers.set(kind, handler);
  }

  /** Claims up to `batch` due jobs of the kinds this process handles, at most `perTenant` per organisation. */
  async function claim(now: Date): Promise<Job[]> {
    const kinds = [...handlers.keys()];
    if (kinds.length === 0) return [];
    const until = new Date(now.getTime() + leaseMs);
    const rows = await withSystem(options.system, async (trx) => {
      const result = await sql<ClaimedRow>`
        update jobs set status = 'running', locked_by = ${workerId}, locked_until = ${until}, attempts = attempts + 1
        where id in (
          select id from jobs
          where id in (
            select id from (
              select id, row_number() over (partition by tenant_id order by run_at) as place
              from jobs
              where kind = any(${kinds}) and ((status = 'queued' and run_at <= ${now}) or (status = 'running' and locked_until <= ${now}))
            ) due where place <= ${perTenant}
          )
          -- Again at the locking level: under READ COMMITTED, a row another process claimed and
          -- committed after this statement's snapshot is locked here and rechecked against these
          -- conditions only (not the subquery's), so without them it was claimed twice.
          and kind = any(${kinds}) and ((status = 'queued' and run_at <= ${now}) or (status = 'running' and locked_until <= ${now}))
          order by run_at
          limit ${batch}
          for update skip locked
        )
        returning id, tenant_id, kind, key, payload, attempts, max_attempts, run_at`.execute(trx);
      return result.rows;
    });
    return rows.map((row) => ({
      id: row.id,
      tenantId: row.tenant_id,
      kind: row.kind,
      key: row.key,
      payload: typeof row.payload === "string" ? (JSON.parse(row.payload) as Record<string, unknown>) : row.payload,
      attempt: row.attempts,
      maxAttempts: row.max_attempts,
      runAt: new Date(row.run_at),
    }));
  }

  /** Settles a job this process holds; a job another process took over meanwhile (lease ran out) is left to it. */
  async function settle(job: Job, result: JobResult | Error): Promise<void> {
    const now = options.now();
    await withSystem(options.system, async (trx) => {
      const mine = trx.updateTable("jobs").where("id", "=", job.id).where("locked_by", "=", workerId).where("status", "=", "running");
      if (result === undefined) {
        await mine.set({ status: "done", finished_at: now, locked_by: null, locked_until: null, last_error: null }).execute();
      } else if (result instanceof Error || "retryAt" in result) {
        const message = result instanceof Error ? result.message : (result.error ?? "not done yet");
        const dead = job.attempt >= job.maxAttempts;
        const retryAt = result instanceof Error ? new Date(now.getTime() + backoffMs(job.attempt)) : result.retryAt;
        await mine
          .set({ status: dead ? "dead" : "queued", run_at: retryAt, finished_at: dead ? now : null, locked_by: null, locked_until: null, last_error: message.slice(0, 2_000) })
          .execute();
      } else {
        await mine.set({ status: "queued", run_at: result.again, attempts: 0, locked_by: null, locked_until: null, last_error: null }).execute();
      }
    });
  }

  async function runOne(job: Job): Promise<void> {
    const handler = handlers.get(job.kind);
    let result: JobResult | Error;
    try {
      result = handler ? await handler(job) : new Error(`no handler for job kind ${job.kind}`);
    } catch (error) {
      result = error instanceof Error ? error : new Error(String(error));
      options.logError(`job ${job.kind} ${job.id} failed (attempt ${job.attempt} of ${job.maxAttempts})`, error);
    }
    try {
      await settle(job, result);
    } catch (error) {
      options.logError(`job ${job.kind} ${job.id}: could not record its outcome (it runs again when its lease ends)`, error);
    }
  }

  async function seedPeriodic(): Promise<void> {
    if (seeded || periodic.length === 0) return;
    const now = options.now();
    await withSystem(options.system, async (trx) => {
      for (const { kind, firstMs } of periodic) await enqueueJob(trx, { kind, tenantId: null, key: "every", runAt: new Date(now.getTime() + firstMs), maxAttempts: 1_000 });
    });
    seeded = true;
  }

  async function prune(): Promise<void> {
    const before = new Date(options.now().getTime() - keepFinishedMs);
    await withSystem(options.system, (trx) => trx.deleteFrom("jobs").where("status", "in", ["done", "dead"]).where("finished_at", "<", before).execute());
  }

  async function drain(): Promise<number> {
    await seedPeriodic();
    let ran = 0;
    const started = options.now().getTime();
    for (;;) {
      const jobs = await claim(options.now());
      if (jobs.length === 0) break;
      // At most `concurrency` at once; the pass claims again when these are done.
      for (let index = 0; index < jobs.length; index += concurrency) {
        await Promise.all(jobs.slice(index, index + concurrency).map(runOne));
      }
      ran += jobs.length;
      // A pass that keeps finding work yields to the event loop now and then and stops after a while (fake time stands still).
      if (!stopped && options.now().getTime() - started > 10_000) break;
      if (ran > 10_000) break;
    }
    return ran;
  }

  // Finished jobs are forgotten after keepFinishedMs, hourly, by one process.
  register("jobs.prune", async () => {
    await prune();
    return { again: new Date(options.now().getTime() + 3_600_000) };
  });
  periodic.push({ kind: "jobs.prune", firstMs: 3_600_000 });

  function runDue(): Promise<number> {
    // One pass at a time in this process; a second caller waits for it and then runs its own.
    const previous = pass ?? Promise.resolve(0);
    const next = previous.catch(() => 0).then(drain);
    pass = next;
    return next;
  }

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      runDue()
        .then((ran) => schedule(ran > 0 ? 0 : pollMs))
        .catch((error: unknown) => {
          options.logError("the job runner could not claim jobs (retrying)", error);
          schedule(pollMs * 5);
        });
    }, delay);
    timer.unref?.();
  }

  return {
    register,
    every(kind, everyMs, handler, firstMs = 0) {
      if (!(everyMs > 0)) throw new Error("every: the period must be positive");
      register(kind, async () => {
        await handler();
        return { again: new Date(options.now().getTime() + everyMs) };
      });
      periodic.push({ kind, firstMs });
    },
    runDue,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await pass?.catch(() => undefined);
    },
  };
}
