/**
 * Concurrent-stream limits shared by every platform process (table `stream_leases`, migration
 * 011). Opening a stream takes a lease: one transaction that locks the subject (an advisory lock,
 * so parallel opens on any process queue up), counts its live leases and inserts one if there is
 * room. Closing the stream deletes the lease. Leases expire `ttlMs` after their last renewal; the
 * process renews all of its leases in one statement every `renewEveryMs`, so the streams of a
 * process that crashed free themselves within `ttlMs`.
 *
 * Time comes from the injected clock (like `rate-limiter.ts`): processes whose clocks disagree
 * by more than the renewal margin (`ttlMs - renewEveryMs`) may see each other's leases expire early.
 */
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { SystemDatabase } from "../db/schema";
import { withSystem } from "../db/scopes";

export interface StreamLease {
  /** Frees the stream's place (idempotent). Resolves once other processes can see it free. */
  release(): Promise<void>;
}

export type StreamLeaseDecision = { allowed: true; lease: StreamLease; open: number } | { allowed: false; open: number };

export interface StreamLeases {
  /** Takes a place for one more stream of `subject` if it has fewer than `max` open, on any process. */
  acquire(subject: string, max: number): Promise<StreamLeaseDecision>;
  /** How many leases this process holds (all subjects). */
  readonly held: number;
  /** Renews every lease this process holds now (the timer does it on its own). */
  renew(): Promise<void>;
  /** Deletes expired leases (those of crashed processes) in one short statement; returns how many went. */
  prune(): Promise<number>;
  /** Stops renewing and releases every lease this process holds (at shutdown). */
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
}

export const STREAM_LEASE_TTL_MS = 60_000;

export function createStreamLeases({ system, now, logError, ttlMs = STREAM_LEASE_TTL_MS, renewEveryMs = Math.floor(ttlMs / 3) }: StreamLeasesDeps): StreamLeases {
  /** This process's leases: id → subject. */
  const held = new Map<string, string>();
  /** Open leases of this process per subject: a subject already at its limit here is refused without a round trip. */
  const heldPerSubject = new Map<string, number>();
  let timer: ReturnType<typeof setInterval> | undefined;

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

  async function renew(): Promise<void> {
    const ids = [...held.keys()];
    if (ids.length === 0) return;
    await withSystem(system, (trx) => trx.updateTable("stream_leases").set({ expires_at: expiry() }).where("id", "in", ids).execute());
  }

  function leaseOf(id: string): StreamLease {
    let released: Promise<void> | undefined;
    return {
      release() {
        released ??= (async () => {
          if (!untrack(id)) return;
          await withSystem(system, (trx) => trx.deleteFrom("stream_leases").where("id", "=", id).execute());
        })();
        return released;
      },
    };
  }

  return {
    async acquire(subject, max) {
      if (!Number.isInteger(max) || max < 1) throw new RangeError(`stream limit must be a positive integer, got ${max}`);
      const local = heldPerSubject.get(subject) ?? 0;
      if (local >= max) return { allowed: false, open: local };
      const id = randomUUID();
      const at = now();
      const { admitted, open } = await withSystem(system, async (trx) => {
        // The lock lasts until the transaction ends: the count and the insert are one step for
        // every process. hashtextextended spreads subjects over 64-bit lock keys.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`stream-lease:${subject}`}, 0))`.execute(trx);
        await trx.deleteFrom("stream_leases").where("subject", "=", subject).where("expires_at", "<=", at).execute();
        const row = await trx.selectFrom("stream_leases").select((eb) => eb.fn.countAll<string | number>().as("open")).where("subject", "=", subject).executeTakeFirstOrThrow();
        const count = Number(row.open);
        if (count >= max) return { admitted: false, open: count };
        await trx.insertInto("stream_leases").values({ id, subject, acquired_at: at, expires_at: expiry() }).execute();
        return { admitted: true, open: count + 1 };
      });
      if (!admitted) return { allowed: false, open };
      track(id, subject);
      return { allowed: true, lease: leaseOf(id), open };
    },

    get held() {
      return held.size;
    },

    renew,

    async prune() {
      const result = await withSystem(system, (trx) => trx.deleteFrom("stream_leases").where("expires_at", "<=", now()).executeTakeFirst());
      return Number(result.numDeletedRows);
    },

    async close() {
      const ids = [...held.keys()];
      for (const id of ids) untrack(id);
      if (ids.length > 0) await withSystem(system, (trx) => trx.deleteFrom("stream_leases").where("id", "in", ids).execute());
    },
  };
}
