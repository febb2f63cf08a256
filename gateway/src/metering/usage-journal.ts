import { constants, lstatSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { AppError, UsageRecord, type UsageJournalEntry, type UsageJournalPage } from "@workforce/protocol";
import { tenantPaths, TenantRoots } from "@workforce/protocol/tenant-path";
import { isNotFound } from "../fs/errno";
import { KeyedLock } from "../fs/keyed-lock";
import { storageError } from "../fs/storage-error";
import type { FileLocks } from "../fs/file-lock";
import type { DiskChange } from "../fs/disk-bytes";
import { appendJsonLines, parseJson } from "../fs/jsonl-file";
import type { Logger } from "../logger";

/** Records per page and bytes per read; a record is a few hundred bytes, so pages end on the count. */
export const JOURNAL_PAGE_LIMIT = 1_000;
const MAX_READ_BYTES = 4 * 1024 * 1024;

export interface UsageJournalOptions {
  dataDir: string;
  locks: FileLocks;
  logger: Logger;
  /** How long after a refused write it is tried again. Default 5 s. */
  retryMs?: number;
  /** Told of the bytes each write added (the tenant's disk figure). */
  onBytesChanged?: DiskChange;
  /** Records kept per tenant while the disk refuses them; the oldest beyond this are lost (and logged). Default 10,000. */
  maxUnwritten?: number;
  /** Tenant roots checked once (shared with the stores); reads go through their containment check. */
  tenantRoots?: TenantRoots;
}

export interface UsageJournal {
  /**
   * Appends a run's record durably (fsync) under the journal's cross-process lock. Records that
   * arrive while a write is in progress share the next write. A tenant whose directory is gone
   * (erased meanwhile) has nothing to record; that is logged, not thrown. Records the disk refuses
   * (full, read-only) are kept and written with the tenant's next batch or a retry.
   */
  append(tenantId: string, record: UsageRecord): Promise<void>;
  /** Records from byte `after` on (0 again when the journal is shorter than that: it was replaced). */
  read(tenantId: string, after: number, limit?: number): Promise<UsageJournalPage>;
  /** The journal's size in bytes (0 when there is none, or the tenant's directory resolves elsewhere: logged). */
  size(tenantId: string): Promise<number>;
  /** Waits for the appends in progress (shutdown). */
  flush(): Promise<void>;
  /** Records kept in memory because the disk refused them (they are retried). */
  unwritten(): number;
  /** Stops retrying (shutdown). */
  close(): void;
}

/**
 * The per-tenant usage journal, `{tenant}/usage.jsonl`: one JSON line per ended run, appended by
 * every gateway on the data dir. Lines are only ever appended, so a byte offset is a cursor
 * (the budget check and the platform's ingestion each keep one). A crash can leave a torn last
 * line: readers stop before a line without its newline, and the next append starts a fresh
 * line after it, so the fragment becomes one unreadable line that readers skip.
 */
export function createUsageJournal(options: UsageJournalOptions): UsageJournal {
  const writes = new KeyedLock();
  const maxUnwritten = options.maxUnwritten ?? 10_000;
  /** Per tenant, the batch not yet being written: records that arrive meanwhile join it. */
  const waiting = new Map<string, { records: UsageRecord[]; written: Promise<void> }>();
  const inFlight = new Set<Promise<void>>();
  const journalOf = (tenantId: string) => tenantPaths(options.dataDir, tenantId).usageJournal;
  const tenantRoots = options.tenantRoots ?? new TenantRoots(options.dataDir);
  /** The journal to read, once it resolves inside the tenant's own directory; undefined when the tenant has none. */
  const readable = (tenantId: string) => tenantRoots.existingFile(tenantId, journalOf(tenantId));

  /** Records whose write failed (disk full, read-only), per tenant: written with the tenant's next batch. */
  const unwritten = new Map<string, UsageRecord[]>();
  let retryTimer: NodeJS.Timeout | undefined;

  async function write(tenantId: string, fresh: UsageRecord[]): Promise<void> {
    const file = journalOf(tenantId);
    const records = [...(unwritten.get(tenantId) ?? []), ...fresh];
    unwritten.delete(tenantId);
    try {
      // The lock keeps a writer's torn-line repair and its lines together when gateways share the file.
      const appended = await options.locks.run(`${file}.lock`, () => appendJsonLines(file, records, { noFollow: true }));
      if (appended) options.onBytesChanged?.(tenantId, appended.after - appended.before);
    } catch (error) {
      if (isNotFound(error)) {
        options.logger.warn(`usage of ${records.length} run(s) not journaled: tenant ${tenantId} has no directory (erased)`);
        return;
      }
      const storage = storageError(error);
      if (!storage) throw error;
      // The operator's to fix: keep the records (bounded) and try again, rather than lose usage.
      const kept = records.slice(-maxUnwritten);
      if (kept.length < records.length) options.logger.error(`lost the usage of ${records.length - kept.length} run(s) of tenant ${tenantId}: the disk refused them too long`, error);
      unwritten.set(tenantId, kept);
      options.logger.warn(`usage of ${kept.length} run(s) of tenant ${tenantId} not journaled yet (${storage.code}); retrying`);
      scheduleRetry();
    }
  }

  function scheduleRetry(): void {
    if (retryTimer) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      for (const tenantId of unwritten.keys()) void enqueue(tenantId, []).catch((error: unknown) => options.logger.error(`usage journal of tenant ${tenantId}`, error));
    }, options.retryMs ?? 5_000);
    retryTimer.unref();
  }

  function enqueue(tenantId: string, records: UsageRecord[]): Promise<void> {
    const queued = waiting.get(tenantId);
    if (queued) {
      queued.records.push(...records);
      return queued.written;
    }
    const batch = { records, written: Promise.resolve() };
    waiting.set(tenantId, batch);
    batch.written = writes
      .run(tenantId, async () => {
        // From here on, new records wait for the next write.
        if (waiting.get(tenantId) === batch) waiting.delete(tenantId);
        await write(tenantId, batch.records);
      })
      .finally(() => inFlight.delete(batch.written));
    inFlight.add(batch.written);
    return batch.written;
  }

  return {
    append: (tenantId, record) => enqueue(tenantId, [record]),

    async read(tenantId, after, limit = JOURNAL_PAGE_LIMIT) {
      const file = await readable(tenantId);
      if (file === undefined) return { entries: [], next: 0, size: 0 };
      let handle;
      try {
        handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
      } catch (error) {
        if (isNotFound(error)) return { entries: [], next: 0, size: 0 };
        throw error;
      }
      try {
        const { size } = await handle.stat();
        const start = after > size ? 0 : after;
        const length = Math.min(size - start, MAX_READ_BYTES);
        const buffer = Buffer.alloc(length);
        let read = 0;
        while (read < length) {
          const { bytesRead } = await handle.read(buffer, read, length - read, start + read);
          if (bytesRead === 0) break;
          read += bytesRead;
        }
        return { ...parsePage(buffer.subarray(0, read), start, limit, read === MAX_READ_BYTES), size };
      } finally {
        await handle.close();
      }
    },

    async size(tenantId) {
      try {
        // Asked for every tenant on each of the platform's sweeps (10,000 tenants: 10,000 calls every
        // 5 s): a regular file right in the checked root is its own answer, one lstat, no thread-pool
        // round trip. Anything else (a link in its place) takes the reads' full containment check.
        const tenant = await tenantRoots.existing(tenantId);
        if (!tenant) return 0;
        const journal = lstatSync(journalOf(tenantId), { throwIfNoEntry: false });
        if (journal === undefined) return 0;
        if (journal.isFile()) return journal.size;
        const file = await readable(tenantId);
        return file === undefined ? 0 : (statSync(file, { throwIfNoEntry: false })?.size ?? 0);
      } catch (error) {
        // One tenant directory linked elsewhere must not stop the platform collecting everyone else's usage.
        if (!(error instanceof AppError) || error.code !== "path_escape") throw error;
        options.logger.warn(`usage journal of tenant ${tenantId} not read: ${error.message}`);
        return 0;
      }
    },

    async flush() {
      await Promise.allSettled([...inFlight]);
    },

    unwritten: () => [...unwritten.values()].reduce((sum, records) => sum + records.length, 0),

    close() {
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = undefined;
    },
  };
}

/**
 * The complete lines of `bytes` (read from byte `start`), up to `limit` records. Unreadable lines
 * (a torn fragment, a hand edit) are passed over; a last line without its newline is left for
 * later (it may be being written). A chunk that is all one line longer than a read is skipped.
 */
export function parsePage(bytes: Buffer, start: number, limit: number, truncated: boolean): { entries: UsageJournalEntry[]; next: number } {
  const entries: UsageJournalEntry[] = [];
  let position = 0;
  while (entries.length < limit) {
    const newline = bytes.indexOf(0x0a, position);
    if (newline < 0) break;
    const line = bytes.subarray(position, newline).toString("utf8");
    const parsed = line.trim() === "" ? undefined : UsageRecord.safeParse(parseJson(line));
    if (parsed?.success) entries.push({ offset: start + position, next: start + newline + 1, record: parsed.data });
    position = newline + 1;
  }
  if (position === 0 && truncated && entries.length === 0) position = bytes.length;
  return { entries, next: start + position };
}
