/**
 * Concurrent-stream limits shared by every platform process (table `stream_leases`, migration
 * 011). Opening a stream takes a lease: in one transaction (its own, or the caller's: a message's
 * one admission transaction, decision 051) the subject is locked (an advisory lock, so parallel
 * opens on any process queue up), its live leases counted and one inserted if there is room.
 * Leases expire `ttlMs` after their last renewal; the process renews all of its leases in one
 * statement every `renewEveryMs`, so the streams of a process that crashed free themselves within `ttlMs`.
 *
 * Closing a stream costs no transaction of its own (decision 051): this process forgets the lease
 * at once (its own count drops, and its acquires no longer count the row), and the row is deleted
 * by the next acquire's transaction on this process, or by a flush `releaseFlushMs` later, which is
 * how long other processes may still count it.
 *
 * Time comes from the injected clock (like `rate-limiter.ts`): processes whose clocks disagree
 * by more than the renewal margin (`ttlMs - renewEveryMs`) may see each other's leases expire early.
 */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { SystemDatabase, SystemTransaction } from "../db/schema";
import { withSystem } from "../db/scopes";

export interface StreamLease {
  /**
   * Frees the stream's place (idempotent): at once for this process, for the others once the row
   * is deleted (within `releaseFlushMs`), which is when the promise resolves.
   */
  release(): Promise<void>;
}

export type StreamLeaseDecision = { allowed: true; lease: StreamLease; open: number } | { allowed: false; open: number };

/** A lease taken inside the caller's system transaction; `settle` once that transaction has ended. */
export interface LeaseAttempt {
  /** Locks the subject, counts and inserts (unless there is no room), in `trx`. */
  take(trx: SystemTransaction): Promise<{ allowed: boolean; open: number }>;
  /** The lease when the transaction committed with a place taken; call exactly once, committed or not. */
  settle(committed: boolean): StreamLease | undefined;
}

export interface StreamLeases {
  /** Takes a place for one more stream of `subject` if it has fewer than `max` open, on any process. */
  acquire(subject: string, max: number): Promise<StreamLeaseDecision>;
  /**
   * The same as one step of a larger system transaction, or undefined when this process alone
   * already holds `max` places of `subject` (refused without a round trip).
   */
  attempt(subject: string, max: number): LeaseAttempt | undefined;
  /** How many leases this process holds (all subjects). */
  readonly held: number;
  /** Renews every lease this process holds now (the timer does it on its own). */
  renew(): Promise<void>;
  /** Deletes expired leases (those of crashed processes) in one short statement; returns how many went. */
  prune(): Promise<number>;
  /** Stops renewing and releases every lease this process holds, and deletes the released ones not yet deleted (at shutdown). */
  close(): Promise<void>;
}

export interface StreamLeasesDeps {
  system: SystemDatabase;
  now: () => Date;
  logError: (message: string, error: unknown) => void;
  /** How long a lease lives without renewal (default 60 000 ms): a crashed process's streams free themselves within it. */
  ttlMs?: number;
  /** How often a process renews its leases (default a third of `ttlMs`). */
  renewEveryMs?: number;
  /** How long a released lease may wait for the next acquire to delete it before a flush does (default 200 ms). */
  releaseFlushMs?: number;
}

export const STREAM_LEASE_TTL_MS = 60_000;
export const RELEASE_FLUSH_MS = 200;

export function createStreamLeases({
  system,
  now,
  logError,
  ttlMs = STREAM_LEASE_TTL_MS,
  renewEveryMs = Math.floor(ttlMs / 3),
  releaseFlushMs = RELEASE_FLUSH_MS,
}: StreamLeasesDeps): StreamLeases {
  /** This process's leases: id → subject. */
  const held = new Map<string, string>();
  /** Open leases of this process per subject: a subject already at its limit here is refused without a round trip. */
  const heldPerSubject = new Map<string, number>();
  /** Released here, row not yet known deleted: id → subject. This process's counts leave them out. */
  const released = new Map<string, string>();
  /** Released ids no transaction has taken on to delete yet (each is deleted by one transaction at a time). */
  let unclaimed: string[] = [];
  /** Whoever awaits a released lease's deletion. */
  const waiters = new Map<string, { resolve: () => void; reject: (error: unknown) => void }>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let flushTimer: ReturnType<typeof setTimeout> | undefined;

  const expiry = () => new Date(now().getTime() + ttlMs);

  function track(id: string, subject: string): void {
    held.set(id, subject);
    heldPerSubject.set(subject, (heldPerSubject.get(subject) ?? 0) + 1);
    if (!timer) {
      // Only while leases are held, and never keeping the process alive.
      timer = setInterval(() => void renew().catch((error: unknown) => logError("could not renew stream leases", error)), renewEveryMs);
      timer.unref();
    }
  }

  function untrack(id: string): boolean {
    const subject = held.get(id);
    if (subject === undefined) return false;
    held.delete(id);
    const left = (heldPerSubject.get(subject) ?? 1) - 1;
    if (left > 0) heldPerSubject.set(subject, left);
    else heldPerSubject.delete(subject);
    if (held.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
    return true;
  }

  /** Hands the released ids to one deleting transaction. */
  function claim(): string[] {
    const ids = unclaimed;
    unclaimed = [];
    return ids;
  }

  /** After the transaction that took `ids` on ended: forgotten when it committed, else back in line. */
  function settleDeletes(ids: string[], outcome: { committed: true } | { committed: false; error?: unknown }): void {
    if (ids.length === 0) return;
    if (!outcome.committed && outcome.error === undefined) {
      unclaimed.push(...ids);
      scheduleFlush();
      return;
    }
    for (const id of ids) {
      // A failed flush leaves the row to expire on its own (it is no longer renewed).
      released.delete(id);
      const waiter = waiters.get(id);
      waiters.delete(id);
      if (outcome.committed) waiter?.resolve();
      else waiter?.reject(outcome.error);
    }
  }

  function scheduleFlush(): void {
    if (flushTimer || unclaimed.length === 0) return;
    flushTimer = setTimeout(() => {
      flushTimer = undefined;
      void flush();
    }, releaseFlushMs);
    flushTimer.unref();
  }

  async function flush(): Promise<void> {
    const ids = claim();
    if (ids.length === 0) return;
    try {
      await withSystem(system, (trx) => trx.deleteFrom("stream_leases").where("id", "in", ids).execute());
      settleDeletes(ids, { committed: true });
    } catch (error) {
      logError(`could not delete ${ids.length} released stream lease(s); they expire on their own`, error);
      settleDeletes(ids, { committed: false, error });
    }
  }

  async function renew(): Promise<void> {
    const ids = [...held.keys()];
    if (ids.length === 0) return;
    await withSystem(system, (trx) => trx.updateTable("stream_leases").set({ expires_at: expiry() }).where("id", "in", ids).execute());
  }

  function leaseOf(id: string): StreamLease {
    let done: Promise<void> | undefined;
    return {
      release() {
        done ??= (() => {
          const subject = held.get(id);
          if (subject === undefined || !untrack(id)) return Promise.resolve();
          released.set(id, subject);
          unclaimed.push(id);
          const deleted = new Promise<void>((resolve, reject) => waiters.set(id, { resolve, reject }));
          scheduleFlush();
          return deleted;
        })();
        return done;
      },
    };
  }

  function attempt(subject: string, max: number): LeaseAttempt | undefined {
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`stream limit must be a positive integer, got ${max}`);
    if ((heldPerSubject.get(subject) ?? 0) >= max) return undefined;
    const id = randomUUID();
    let deleting: string[] = [];
    let admitted = false;
    let settled = false;
    return {
      async take(trx) {
        const at = now();
        // The lock lasts until the transaction ends: the count and the insert are one step for
        // every process. hashtextextended spreads subjects over 64-bit lock keys.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`stream-lease:${subject}`}, 0))`.execute(trx);
        deleting = claim();
        // Released here, whether this statement deletes them or another transaction still does: free for this process.
        const freed = [...released].flatMap(([releasedId, of]) => (of === subject ? [releasedId] : []));
        const orReleased = deleting.length > 0 ? sql` or id in (${sql.join(deleting)})` : sql``;
        const notFreed = freed.length > 0 ? sql` and id not in (${sql.join(freed)})` : sql``;
        // One statement instead of three round trips. Its parts share one snapshot: the count sees
        // the rows the delete removes, so it leaves out the expired and the released itself.
        const { rows } = await sql<{ open: string | number | bigint; inserted: string | number | bigint }>`
          with gone as (
            delete from stream_leases where (subject = ${subject} and expires_at <= ${at})${orReleased}
          ), live as (
            select count(*) as n from stream_leases where subject = ${subject} and expires_at > ${at}${notFreed}
          ), added as (
            insert into stream_leases (id, subject, acquired_at, expires_at)
            select ${id}::uuid, ${subject}::text, ${at}::timestamptz, ${expiry()}::timestamptz from live where n < ${max}
            returning id
          )
          select (select n from live) as open, (select count(*) from added) as inserted`.execute(trx);
        const row = rows[0];
        if (!row) throw new Error("the stream lease statement returned no row");
        const open = Number(row.open);
        admitted = Number(row.inserted) === 1;
        return admitted ? { allowed: true, open: open + 1 } : { allowed: false, open };
      },
      settle(committed) {
        if (settled) throw new Error("a lease attempt is settled once");
        settled = true;
        settleDeletes(deleting, committed ? { committed: true } : { committed: false });
        if (!committed || !admitted) return undefined;
        track(id, subject);
        return leaseOf(id);
      },
    };
  }

  return {
    async acquire(subject, max) {
      const step = attempt(subject, max);
      if (!step) return { allowed: false, open: heldPerSubject.get(subject) ?? 0 };
      let result: { allowed: boolean; open: number };
      try {
        result = await withSystem(system, (trx) => step.take(trx));
      } catch (error) {
        step.settle(false);
        throw error;
      }
      const lease = step.settle(true);
      return lease ? { allowed: true, lease, open: result.open } : { allowed: false, open: result.open };
    },

    attempt,

    get held() {
      return held.size;
    },

    renew,

    async prune() {
      const result = await withSystem(system, (trx) => trx.deleteFrom("stream_leases").where("expires_at", "<=", now()).executeTakeFirst());
      return Number(result.numDeletedRows);
    },

    async close() {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = undefined;
      const ids = [...held.keys()];
      for (const id of ids) untrack(id);
      const releasedIds = claim();
      const all = [...ids, ...releasedIds];
      if (all.length === 0) return;
      try {
        await withSystem(system, (trx) => trx.deleteFrom("stream_leases").where("id", "in", all).execute());
      } catch (error) {
        settleDeletes(releasedIds, { committed: false, error });
        throw error;
      }
      settleDeletes(releasedIds, { committed: true });
    },
  };
}
