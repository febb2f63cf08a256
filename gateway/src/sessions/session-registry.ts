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
   * Registries this small are rewritten on every change, so sessions.json is always current for
   * the common case; the cost is bounded by this constant, not by the number of sessions.
   */
  eagerMaxSessions: number;
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
    if (this.unchangedOnDisk()) return;
    await this.exclusive(async () => undefined);
  }

  /**
   * Read-modify-write of one entry under the registry lock, so concurrent updates (from this or
   * another process) never lose each other. `change` returns the new summary, or undefined to
   * leave the entry untouched.
   */
  async update(key: string, change: (current: SessionSummary | undefined) => SessionSummary | undefined): Promise<SessionSummary | undefined> {
    return this.exclusive(async () => {
      const next = change(this.sessions.get(key));
      if (!next) return this.sessions.get(key);
      await this.journal({ op: "put", session: next });
      return next;
    });
  }

  /** Returns the entry for `key`, or creates it with `create` (which may write its transcript) under the lock. */
  async getOrCreate(key: string, create: () => Promise<SessionSummary>): Promise<{ session: SessionSummary; created: boolean }> {
    return this.exclusive(async () => {
      const existing = this.sessions.get(key);
      if (existing) return { session: existing, created: false };
      const session = await create();
      await this.journal({ op: "put", session });
      return { session, created: true };
    });
  }

  async remove(key: string): Promise<SessionSummary | undefined> {
    return this.exclusive(async () => {
      const current = this.sessions.get(key);
      if (!current) return undefined;
      await this.journal({ op: "delete", key });
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
    if (sameIdentity(registry, this.seen.registry) && sameIdentity(journal, this.seen.journal)) return;
    if (sameIdentity(registry, this.seen.registry) && isAppendOf(this.seen.journal, journal)) {
      const { values, skippedLines } = await readJsonLinesFrom(this.paths.registryJournal, Number(this.seen.journal?.size ?? 0n), JournalLine);
      this.apply(values);
      this.journalLines += values.length + skippedLines.length;
    } else if (!(await this.readRegistryFiles())) {
      // sessions.json vanished or broke after this instance loaded it: rebuild as at first load.
      await this.reconcileWithTranscripts();
      this.journalLines += 1;
      await this.compact();
    }
    this.seen = { registry: fileIdentity(this.paths.registry), journal: fileIdentity(this.paths.registryJournal) };
  }

  private apply(lines: readonly JournalLine[]): void {
    for (const line of lines) {
      if (line.op === "put") this.sessions.set(line.session.key, line.session);
      else this.sessions.delete(line.key);
    }
  }

  private async journal(line: JournalLine): Promise<void> {
    await appendJsonLines(this.paths.registryJournal, [line]);
    this.journalLines += 1;
    this.apply([line]);
    this.seen.journal = fileIdentity(this.paths.registryJournal);
    const size = this.sessions.size;
    if (size <= this.options.eagerMaxSessions || this.journalLines > Math.max(this.options.minJournalLines, size)) {
      await this.compact();
    } else {
      this.scheduleCompaction();
    }
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
    await unlink(this.paths.registryJournal).catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
    });
    this.journalLines = 0;
    this.seen = { registry: fileIdentity(this.paths.registry), journal: undefined };
  }

  private async writeRegistryFile(): Promise<void> {
    const body: Record<string, SessionSummary> = {};
    for (const session of this.list()) body[session.key] = session;
    await writeFileAtomic(this.paths.registry, JSON.stringify(body, null, 2) + "\n");
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
   * transcript is gone, refresh the entries of transcripts whose lock file shows an append that
   * may not have reached the registry (a crash between the two), and remove crash leftovers.
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
    const interrupted = new Set(names.filter((name) => name.endsWith(TRANSCRIPT_LOCK_SUFFIX)).map((name) => name.slice(0, -TRANSCRIPT_LOCK_SUFFIX.length)));
    for (const sessionId of onDisk) {
      if (known.has(sessionId) && !interrupted.has(sessionId)) continue;
      if (await this.summarizeFromTranscript(sessionId)) changed = true;
    }
    for (const sessionId of interrupted) {
      let lockPath: string;
      try {
        lockPath = transcriptLockPath(this.paths, sessionId);
      } catch {
        continue; // not a name the gateway writes
      }
      if (this.options.locks.inspect(lockPath) === "stale") this.options.locks.removeStale(lockPath);
    }
    await this.removeLeftovers(names);
    return changed;
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
