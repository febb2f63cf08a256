import { unlinkSync } from "node:fs";
import { readdir, readFile, unlink } from "node:fs/promises";
import path from "node:path";
import { SessionSummary } from "@workforce/protocol";
import type { AgentPaths } from "@workforce/protocol/tenant-path";
import { z } from "zod";
import { writeFileAtomic } from "../fs/atomic-write";
import { isNotFound } from "../fs/errno";
import { fileIdentity, isAppendOf, sameIdentity, type FileIdentity } from "../fs/file-identity";
import type { FileLocks } from "../fs/file-lock";
import { appendJsonLines, parseJson, parseJsonLines, readJsonLinesFrom } from "../fs/jsonl-file";
import type { Logger } from "../logger";
import { summarizeTranscript } from "./session-summary";
import { readTranscript } from "./transcript";

/** Registries up to this size are rewritten whenever the agent goes idle. */
const IDLE_REWRITE_MAX_SESSIONS = 1_000;
/** Leftovers of atomic writes (`.sessions.json.<hex>.tmp`, `.<sessionId>.jsonl.<hex>.tmp`) ... */
const LEFTOVER_TEMP = /^\..+\.[0-9a-f]+\.tmp$/;
/** ... and of lock take-overs (`<lock>.stale-<hex>`). */
const LEFTOVER_LOCK = /\.lock\.stale-[0-9a-f]+$/;
const TRANSCRIPT_LOCK_SUFFIX = ".jsonl.lock";
const RUN_LEASE_SUFFIX = ".jsonl.run.lock";

/** sessions.json: session key → summary. */
const RegistryFile = z.record(z.string(), SessionSummary);

/** One line of sessions.journal.jsonl: a change made since sessions.json was last written. */
const JournalLine = z.discriminatedUnion("op", [
  z.object({ op: z.literal("put"), session: SessionSummary }),
  z.object({ op: z.literal("delete"), key: z.string() }),
]);
type JournalLine = z.infer<typeof JournalLine>;

export interface SessionRegistryOptions {
  logger: Logger;
  /** Cross-process locks: the registry lock file guards every read-modify-write of the registry files. */
  locks: FileLocks;
  /** sessions.json is rewritten this long after the last change (idle debounce). */
  compactDelayMs: number;
  /** ...or as soon as the journal has more lines than max(this, number of sessions). */
  minJournalLines: number;
  /**
   * Registries this small also get sessions.json rewritten (without fsync: the journal is the
   * durable record) by a change made while the agent is quiet, so sessions.json is current
   * whenever nothing else is going on; the cost is bounded by this constant, not by the number
   * of sessions. Under load changes are only journaled.
   */
  eagerMaxSessions: number;
  /** True while no other run of this agent is in progress here; defaults to always. */
  isQuiet?: () => boolean;
  /** Told how many bytes each write of the registry files added (negative when they shrank), for the tenant's disk figure. */
  onBytesChanged?: (bytes: number) => void;
}

/** A change waiting for the next group commit. */
interface PendingChange {
  /** Runs under the lock with the registry caught up; `record` applies a journal line and queues it for writing. */
  change: (record: (line: JournalLine) => void) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The lock file that guards appends to one transcript (and, after a crash, marks it as possibly ahead of the registry). */
export function transcriptLockPath(paths: AgentPaths, sessionId: string): string {
  return `${paths.transcript(sessionId)}.lock`;
}

/** The lock file a run holds for its whole duration, so runs of one session never overlap across processes. */
export function runLeasePath(paths: AgentPaths, sessionId: string): string {
  return `${paths.transcript(sessionId)}.run.lock`;
}

/**
 * The session registry of one agent, kept in memory. A change costs one small fsynced journal
 * append, independent of how many sessions exist; sessions.json (the readable registry) is
 * rewritten atomically only when the journal outgrows the registry or the agent goes idle, so
 * the amortised cost per message stays constant. On load the journal is replayed over
 * sessions.json, and transcripts the registry does not know are summarised back in.
 *
 * Several gateway processes may share the files (shared storage): every change happens under the
 * registry's lock file, after catching up with what the others wrote. Catching up is one stat of
 * each registry file when nothing changed, reading the journal's new tail when another process
 * appended, and a re-read of sessions.json only after another process rewrote it.
 */
export class SessionRegistry {
  private sessions = new Map<string, SessionSummary>();
  private journalLines = 0;
  private compactTimer: NodeJS.Timeout | undefined;
  /** Changes waiting for the group commit in progress to finish; the next one takes them all. */
  private pending: PendingChange[] = [];
  private committing = false;
  /** Set when a commit failed after changing the map: the next access reloads from disk. */
  private stale = false;
  /** The registry files as this instance last wrote or read them. */
  private seen: { registry: FileIdentity | undefined; journal: FileIdentity | undefined } = { registry: undefined, journal: undefined };

  private constructor(
    private readonly paths: AgentPaths,
    private readonly options: SessionRegistryOptions,
  ) {}

  static async load(paths: AgentPaths, options: SessionRegistryOptions): Promise<SessionRegistry> {
    const registry = new SessionRegistry(paths, options);
    await options.locks.run(paths.lock, () => registry.loadFromDisk());
    return registry;
  }

  /** The entry as last seen; call `sync()` first to see other processes' changes. */
  get(key: string): SessionSummary | undefined {
    return this.sessions.get(key);
  }

  /** Newest first. */
  list(): SessionSummary[] {
    return [...this.sessions.values()].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || a.key.localeCompare(b.key));
  }

  get size(): number {
    return this.sessions.size;
  }

  /** Catches up with changes other processes made; two stats when there are none. */
  async sync(): Promise<void> {
    if (!this.stale && this.unchangedOnDisk()) return;
    await this.exclusive(async () => undefined);
  }

  /**
   * Read-modify-write of one entry under the registry lock, so concurrent updates (from this or
   * another process) never lose each other. `change` returns the new summary, or undefined to
   * leave the entry untouched. Resolves once the change is durable.
   */
  async update(key: string, change: (current: SessionSummary | undefined) => SessionSummary | undefined): Promise<SessionSummary | undefined> {
    return this.commit(async (record) => {
      const next = change(this.sessions.get(key));
      if (!next) return this.sessions.get(key);
      record({ op: "put", session: next });
      return next;
    });
  }

  /** Returns the entry for `key` (as last seen: `sync()` first), or creates it with `create` (which may write its transcript) under the lock. */
  async getOrCreate(key: string, create: () => Promise<SessionSummary>): Promise<{ session: SessionSummary; created: boolean }> {
    // Caught up by the caller (sync): an existing session needs neither the lock nor a write.
    const known = this.stale ? undefined : this.sessions.get(key);
    if (known) return { session: known, created: false };
    return this.commit(async (record) => {
      const existing = this.sessions.get(key);
      if (existing) return { session: existing, created: false };
      const session = await create();
      record({ op: "put", session });
      return { session, created: true };
    });
  }

  async remove(key: string): Promise<SessionSummary | undefined> {
    return this.commit(async (record) => {
      const current = this.sessions.get(key);
      if (!current) return undefined;
      record({ op: "delete", key });
      return current;
    });
  }

  /** Writes sessions.json now (if anything changed) and empties the journal. */
  async flush(): Promise<void> {
    await this.exclusive(() => this.compact());
  }

  /** Stops the idle timer; call flush() first to persist the compacted form. */
  close(): void {
    if (this.compactTimer) clearTimeout(this.compactTimer);
    this.compactTimer = undefined;
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.options.locks.run(this.paths.lock, async () => {
      await this.catchUp();
      return task();
    });
  }

  private unchangedOnDisk(): boolean {
    return sameIdentity(fileIdentity(this.paths.registry), this.seen.registry) && sameIdentity(fileIdentity(this.paths.registryJournal), this.seen.journal);
  }

  /** Under the lock: folds in whatever other processes wrote since this instance last looked. */
  private async catchUp(): Promise<void> {
    const registry = fileIdentity(this.paths.registry);
    const journal = fileIdentity(this.paths.registryJournal);
    const { stale } = this;
    if (!stale && sameIdentity(registry, this.seen.registry) && sameIdentity(journal, this.seen.journal)) return;
    if (!stale && sameIdentity(registry, this.seen.registry) && isAppendOf(this.seen.journal, journal)) {
      const { values, skippedLines } = await readJsonLinesFrom(this.paths.registryJournal, Number(this.seen.journal?.size ?? 0n), JournalLine);
      this.apply(values);
      this.journalLines += values.length + skippedLines.length;
    } else if (!(await this.readRegistryFiles())) {
      // sessions.json vanished or broke after this instance loaded it: rebuild as at first load.
      await this.reconcileWithTranscripts();
      this.journalLines += 1;
      await this.compact();
    }
    this.stale = false;
    this.seen = { registry: fileIdentity(this.paths.registry), journal: fileIdentity(this.paths.registryJournal) };
  }

  private apply(lines: readonly JournalLine[]): void {
    for (const line of lines) {
      if (line.op === "put") this.sessions.set(line.session.key, line.session);
      else this.sessions.delete(line.key);
    }
  }

  /**
   * Group commit: changes that arrive while a commit is writing wait and then go together, under
   * one acquisition of the registry lock, in one journal write and one fsync (or one rewrite of
   * sessions.json). Each change sees the ones before it; a failing change fails alone, a failing
   * write fails the whole group and makes the next access reload the registry from disk.
   */
  private commit<T>(change: (record: (line: JournalLine) => void) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ change, resolve: resolve as (value: unknown) => void, reject });
      if (!this.committing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.committing = true;
    try {
      while (this.pending.length > 0) await this.commitGroup(this.pending.splice(0));
    } finally {
      this.committing = false;
    }
  }

  private async commitGroup(group: readonly PendingChange[]): Promise<void> {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const lines: JournalLine[] = [];
    const record = (line: JournalLine) => {
      this.apply([line]);
      lines.push(line);
    };
    try {
      await this.exclusive(async () => {
        for (const item of group) {
          try {
            outcomes.push({ ok: true, value: await item.change(record) });
          } catch (error) {
            outcomes.push({ ok: false, value: error });
          }
        }
        await this.persist(lines);
      });
    } catch (error) {
      if (lines.length > 0) this.stale = true;
      for (const item of group) item.reject(error);
      return;
    }
    group.forEach((item, index) => {
      const outcome = outcomes[index];
      if (outcome?.ok) item.resolve(outcome.value);
      else item.reject(outcome?.value);
    });
  }

  /** Under the lock: makes `lines` (already applied in memory) durable. */
  private async persist(lines: readonly JournalLine[]): Promise<void> {
    if (lines.length === 0) return;
    this.journalLines += lines.length;
    const size = this.sessions.size;
    const appended = await appendJsonLines(this.paths.registryJournal, lines);
    if (appended) this.options.onBytesChanged?.(appended.after - appended.before);
    this.seen.journal = fileIdentity(this.paths.registryJournal);
    if (this.journalLines > Math.max(this.options.minJournalLines, size)) {
      await this.compact();
      return;
    }
    if (size <= this.options.eagerMaxSessions && (this.options.isQuiet?.() ?? true)) {
      // Keep the readable sessions.json current while nothing else is going on. The journal,
      // fsynced above and kept until the next compaction, is what makes the change durable, so
      // this rewrite skips its two fsyncs (after a power loss sessions.json is merely replayed
      // over or rebuilt, as at any load).
      await this.writeRegistryFile({ durable: false });
      this.seen.registry = fileIdentity(this.paths.registry);
    }
    this.scheduleCompaction();
  }

  private scheduleCompaction(): void {
    if (this.compactTimer) clearTimeout(this.compactTimer);
    this.compactTimer = setTimeout(() => {
      this.compactTimer = undefined;
      this.exclusive(async () => {
        // Idle rewrites stay amortised O(1) per change: big registries wait until the journal is a
        // tenth of their size (or the journal-size trigger / shutdown flush), never every idle moment.
        if (this.sessions.size <= IDLE_REWRITE_MAX_SESSIONS || this.journalLines * 10 >= this.sessions.size) await this.compact();
      }).catch((error: unknown) => this.options.logger.error(`could not rewrite ${this.paths.registry}`, error));
    }, this.options.compactDelayMs);
    this.compactTimer.unref();
  }

  private async compact(): Promise<void> {
    if (this.journalLines === 0) return;
    await this.writeRegistryFile();
    // A crash between these two steps only means the journal is replayed again: puts are idempotent.
    const journalBytes = Number(fileIdentity(this.paths.registryJournal)?.size ?? 0n);
    try {
      unlinkSync(this.paths.registryJournal);
      this.options.onBytesChanged?.(-journalBytes);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.journalLines = 0;
    this.seen = { registry: fileIdentity(this.paths.registry), journal: undefined };
  }

  private async writeRegistryFile(options: { durable?: boolean } = {}): Promise<void> {
    const body: Record<string, SessionSummary> = {};
    for (const session of this.list()) body[session.key] = session;
    const text = JSON.stringify(body, null, 2) + "\n";
    const before = Number(fileIdentity(this.paths.registry)?.size ?? 0n);
    await writeFileAtomic(this.paths.registry, text, 0o600, options);
    this.options.onBytesChanged?.(Buffer.byteLength(text) - before);
  }

  /** sessions.json with the journal replayed over it; false when sessions.json is missing or unreadable. */
  private async readRegistryFiles(): Promise<boolean> {
    const { logger } = this.options;
    this.sessions = new Map();
    this.journalLines = 0;
    let complete = false;
    const file = await readOptional(this.paths.registry);
    if (file !== undefined) {
      const parsed = RegistryFile.safeParse(parseJson(file));
      if (parsed.success) {
        this.sessions = new Map(Object.entries(parsed.data));
        complete = true;
      } else logger.warn(`${this.paths.registry} is unreadable; rebuilding it from the transcripts`);
    }
    const journal = await readOptional(this.paths.registryJournal);
    if (journal !== undefined) {
      const { values, skippedLines } = parseJsonLines(journal, JournalLine);
      if (skippedLines.length > 0) logger.warn(`${this.paths.registryJournal}: skipped unreadable line(s) ${skippedLines.join(", ")}`);
      this.apply(values);
      this.journalLines = values.length + skippedLines.length;
    }
    return complete;
  }

  /** First load, under the lock: registry files, then reconciled with the transcripts and cleaned of crash leftovers. */
  private async loadFromDisk(): Promise<void> {
    const complete = await this.readRegistryFiles();
    const changed = await this.reconcileWithTranscripts();
    if (changed || !complete) this.journalLines += 1;
    if (this.journalLines > 0) await this.compact();
    this.seen = { registry: fileIdentity(this.paths.registry), journal: fileIdentity(this.paths.registryJournal) };
  }

  /**
   * Transcripts are the source of truth: summarise the ones the registry lost, drop entries whose
   * transcript is gone, refresh the entries of transcripts whose lock file was left by a writer
   * that is gone (a crash between the transcript append and its registry update), and remove
   * crash leftovers.
   */
  private async reconcileWithTranscripts(): Promise<boolean> {
    let names: string[];
    try {
      names = await readdir(this.paths.sessionsDir);
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
    const onDisk = new Set(names.filter((name) => name.endsWith(".jsonl") && name !== "sessions.journal.jsonl").map((name) => name.slice(0, -6)));
    let changed = false;
    for (const [key, session] of this.sessions) {
      if (!onDisk.has(session.sessionId)) {
        this.sessions.delete(key);
        changed = true;
      }
    }
    const known = new Set([...this.sessions.values()].map((session) => session.sessionId));
    // Lock files mark sessions whose registry entry may lag their transcript: a transcript lock
    // (an append outside a run) or a run's lease (a run defers its registry update to its end).
    const lockedBy = (suffix: string) => names.filter((name) => name.endsWith(suffix)).map((name) => name.slice(0, -suffix.length));
    const interrupted = new Set([...lockedBy(TRANSCRIPT_LOCK_SUFFIX), ...lockedBy(RUN_LEASE_SUFFIX)]);
    for (const sessionId of onDisk) {
      if (known.has(sessionId) && !interrupted.has(sessionId)) continue;
      // A live lock is an append or a run in progress (another process): its writer brings the
      // entry up to date from the lines it appends once it gets the registry lock we hold, so
      // summarising the transcript here as well would count those lines twice.
      if (known.has(sessionId) && this.appendInProgress(sessionId)) continue;
      if (await this.summarizeFromTranscript(sessionId)) changed = true;
    }
    for (const sessionId of interrupted) {
      let lockPaths: string[];
      try {
        lockPaths = [transcriptLockPath(this.paths, sessionId), runLeasePath(this.paths, sessionId)];
      } catch {
        continue; // not a name the gateway writes
      }
      for (const lockPath of lockPaths) if (this.options.locks.inspect(lockPath) === "stale") this.options.locks.removeStale(lockPath);
    }
    await this.removeLeftovers(names);
    return changed;
  }

  private appendInProgress(sessionId: string): boolean {
    try {
      const { locks } = this.options;
      return locks.inspect(transcriptLockPath(this.paths, sessionId)) === "live" || locks.inspect(runLeasePath(this.paths, sessionId)) === "live";
    } catch {
      return false;
    }
  }

  /**
   * Temp files of atomic writes interrupted by a crash. Every such write in this directory happens
   * under the registry lock, which the caller holds, so none of them is in progress right now.
   * Lock files moved aside during a take-over are removed only once old, since a take-over runs
   * outside the lock.
   */
  private async removeLeftovers(names: readonly string[]): Promise<void> {
    for (const name of names) {
      if (!LEFTOVER_TEMP.test(name) && !LEFTOVER_LOCK.test(name)) continue;
      const file = path.join(this.paths.sessionsDir, name);
      if (LEFTOVER_LOCK.test(name)) {
        const identity = fileIdentity(file);
        if (!identity || Date.now() - Number(identity.mtimeNs / 1_000_000n) < 60_000) continue;
      }
      await unlink(file).catch(() => undefined);
    }
  }

  private async summarizeFromTranscript(sessionId: string): Promise<boolean> {
    let transcript;
    try {
      transcript = await readTranscript(this.paths.transcript(sessionId));
    } catch (error) {
      this.options.logger.warn(`cannot read transcript ${sessionId}: ${String(error)}`);
      return false;
    }
    if (!transcript) return false;
    const { key } = transcript.header;
    const current = this.sessions.get(key);
    // Two transcripts claiming one key (a crash between creating one and naming it): keep the named one.
    if (current && current.sessionId !== sessionId) return false;
    const next = summarizeTranscript(transcript, current);
    if (current && JSON.stringify(current) === JSON.stringify(next)) return false;
    this.sessions.set(key, next);
    return true;
  }
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
