import { unlinkSync } from "node:fs";
import type { SessionSummary } from "@workforce/protocol";
import type { AgentPaths } from "@workforce/protocol/tenant-path";
import type { RegistryVersion } from "../coordination/registry-versions";
import { writeFileAtomic } from "../fs/atomic-write";
import { errnoCode, isNotFound } from "../fs/errno";
import { fileIdentity, isAppendOf, sameIdentity, type FileIdentity } from "../fs/file-identity";
import type { FileLocks } from "../fs/file-lock";
import { appendJsonLines } from "../fs/jsonl-file";
import type { Logger } from "../logger";
import { readRegistry } from "./registry-reader";
import { readJournalRange, readUntilCurrent, registryFileText, type JournalLine, type RegistryStamp } from "./registry-files";
import { RegistryLease, type RegistryCluster } from "./registry-lease";
import { GroupCommit } from "./group-commit";
import { reconcileWithTranscripts } from "./registry-repair";

export { runLeasePath, transcriptLockPath } from "./registry-repair";
export type { RegistryCluster } from "./registry-lease";

/** Registries up to this size are rewritten whenever the agent goes idle. */
const IDLE_REWRITE_MAX_SESSIONS = 1_000;

export interface SessionRegistryOptions {
  logger: Logger;
  /** Cross-process locks: the registry lock file guards every read-modify-write of the registry files (single-host mode). */
  locks: FileLocks;
  /** Leases and versions in Redis instead of the lock file and stat(); undefined on one host. */
  cluster?: RegistryCluster;
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

/**
 * The session registry of one agent, kept in memory. A change costs one small fsynced journal
 * append, independent of how many sessions exist; sessions.json (the readable registry) is
 * rewritten atomically only when the journal outgrows the registry or the agent goes idle, so
 * the amortised cost per message stays constant. On load the journal is replayed over
 * sessions.json, and transcripts the registry does not know are summarised back in.
 *
 * Several gateway processes may share the files (shared storage): every change happens under the
 * registry's lock file (or, in cluster mode, its lease), after catching up with what the others
 * wrote. On one host catching up is one stat of each registry file when nothing changed, reading
 * the journal's new tail when another process appended, and a re-read of sessions.json only after
 * another process rewrote it. In cluster mode the same decisions follow the version in Redis, and
 * only the journal bytes a lease holder recorded there are read.
 */
export class SessionRegistry {
  private sessions = new Map<string, SessionSummary>();
  private journalLines = 0;
  private compactTimer: NodeJS.Timeout | undefined;
  /** Changes wait here for the commit in progress; the next one takes them all (one lock, one journal write, one fsync). */
  private readonly changes = new GroupCommit<JournalLine>({
    exclusive: (task) => this.exclusive(task),
    apply: (line) => this.apply([line]),
    persist: (lines) => this.persist(lines),
    failed: () => {
      this.stale = true;
    },
  });
  /** Set when a commit failed after changing the map: the next access reloads from disk. */
  private stale = false;
  /** Single host: the registry files as this instance last wrote or read them. */
  private seen: { registry: FileIdentity | undefined; journal: FileIdentity | undefined } = { registry: undefined, journal: undefined };
  /** The newest fencing token among the lines applied: a journal line with an older one came from a stalled ex-holder. */
  private maxFence = -1;
  /** Cluster mode: the lease and the version in Redis. */
  private readonly cluster: RegistryLease | undefined;

  private constructor(
    private readonly paths: AgentPaths,
    private readonly options: SessionRegistryOptions,
  ) {
    this.cluster = options.cluster ? new RegistryLease(options.cluster) : undefined;
  }

  static async load(paths: AgentPaths, options: SessionRegistryOptions): Promise<SessionRegistry> {
    const registry = new SessionRegistry(paths, options);
    await registry.hold(() => registry.loadFromDisk());
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

  /** Catches up with changes other processes made; two stats (cluster: one Redis read) when there are none. */
  async sync(): Promise<void> {
    if (!this.stale && (this.cluster ? await this.cluster.current() : this.unchangedOnDisk())) return;
    await this.exclusive(async () => undefined);
  }

  /**
   * Read-modify-write of one entry under the registry lock, so concurrent updates (from this or
   * another process) never lose each other. `change` returns the new summary, or undefined to
   * leave the entry untouched. Resolves once the change is durable.
   */
  async update(key: string, change: (current: SessionSummary | undefined) => SessionSummary | undefined): Promise<SessionSummary | undefined> {
    return this.changes.commit(async (record) => {
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
    return this.changes.commit(async (record) => {
      const existing = this.sessions.get(key);
      if (existing) return { session: existing, created: false };
      const session = await create();
      record({ op: "put", session });
      return { session, created: true };
    });
  }

  async remove(key: string): Promise<SessionSummary | undefined> {
    return this.changes.commit(async (record) => {
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

  /** Runs `task` holding the registry's lock file (single host) or lease (cluster). */
  private hold<T>(task: () => Promise<T>): Promise<T> {
    return this.cluster ? this.cluster.hold(task) : this.options.locks.run(this.paths.lock, () => task());
  }

  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    return this.hold(async () => {
      await this.catchUp();
      return task();
    });
  }

  private unchangedOnDisk(): boolean {
    return sameIdentity(fileIdentity(this.paths.registry), this.seen.registry) && sameIdentity(fileIdentity(this.paths.registryJournal), this.seen.journal);
  }

  /** Under the lock: folds in whatever other processes wrote since this instance last looked. */
  private async catchUp(): Promise<void> {
    if (this.cluster) return this.catchUpWithVersion(this.cluster);
    const registry = fileIdentity(this.paths.registry);
    const journal = fileIdentity(this.paths.registryJournal);
    const { stale } = this;
    if (!stale && sameIdentity(registry, this.seen.registry) && sameIdentity(journal, this.seen.journal)) return;
    if (!stale && sameIdentity(registry, this.seen.registry) && isAppendOf(this.seen.journal, journal)) {
      const { values, skippedLines } = await readJournalRange(this.paths.registryJournal, Number(this.seen.journal?.size ?? 0n), undefined);
      this.applyJournal(values);
      this.journalLines += values.length + skippedLines.length;
    } else if (!(await this.readRegistryFiles(undefined)).complete) {
      // sessions.json vanished or broke after this instance loaded it: rebuild as at first load.
      await reconcileWithTranscripts(this.paths, this.sessions, this.options);
      this.journalLines += 1;
      await this.compact();
    }
    this.stale = false;
    this.seen = { registry: fileIdentity(this.paths.registry), journal: fileIdentity(this.paths.registryJournal) };
  }

  /**
   * Cluster, under the lease: catches up with the version in Redis. A newer fence recorded there
   * (this holder stalled and lost its lease) refuses before anything is written; the journal's new
   * lines are read up to the recorded length, sessions.json only after another compaction.
   */
  private async catchUpWithVersion(cluster: RegistryLease): Promise<void> {
    const target = await cluster.fetch();
    const current = cluster.version;
    const sameGeneration = !this.stale && target && current && target.generation === current.generation;
    if (sameGeneration && target.journalBytes === current.journalBytes) return;
    if (sameGeneration && target.journalBytes > current.journalBytes) {
      const read = () => readJournalRange(this.paths.registryJournal, current.journalBytes, target.journalBytes);
      const tail = await readUntilCurrent(read, (result) => result.short);
      if (!tail.short) {
        this.applyJournal(tail.values);
        this.journalLines = target.journalLines;
        cluster.version = target;
        return;
      }
    }
    await this.reloadInCluster(cluster, target, false);
    this.stale = false;
  }

  /**
   * Cluster, under the lease: sessions.json and the journal read afresh, and rewritten when they
   * are not what Redis recorded (or were repaired from the transcripts, always at first load).
   */
  private async reloadInCluster(cluster: RegistryLease, target: RegistryVersion | undefined, firstLoad: boolean): Promise<void> {
    const { complete, tracked } = await readUntilCurrent(() => this.readRegistryFiles(target), (result) => !result.tracked && target !== undefined);
    cluster.refuseOlderThan(this.maxFence);
    const repaired = (firstLoad || !complete || !tracked) && (await reconcileWithTranscripts(this.paths, this.sessions, this.options));
    if (!complete || !tracked || repaired) {
      this.journalLines += 1;
      try {
        await this.compact();
        return;
      } catch (error) {
        // Read-only storage: what was read still serves readers (as on one host); writes fail on their own.
        if (errnoCode(error) !== "EROFS") throw error;
      }
    }
    cluster.version = target;
  }

  private apply(lines: readonly JournalLine[]): void {
    for (const line of lines) {
      if (line.op === "put") this.sessions.set(line.session.key, line.session);
      else this.sessions.delete(line.key);
    }
  }

  /** Journal lines read from disk: one with an older fence than a line before it was written by a stalled ex-holder and does not count. */
  private applyJournal(lines: readonly JournalLine[]): void {
    for (const line of lines) {
      if (line.fence !== undefined) {
        if (line.fence < this.maxFence) continue;
        this.maxFence = line.fence;
      }
      this.apply([line]);
    }
  }

  /** Under the lock: makes `lines` (already applied in memory) durable. */
  private async persist(lines: readonly JournalLine[]): Promise<void> {
    if (lines.length === 0) return;
    this.journalLines += lines.length;
    const size = this.sessions.size;
    // Cluster: nothing is appended once a newer holder recorded a version (this one stalled past its lease).
    if (this.cluster) await this.cluster.fetch();
    const fence = this.cluster?.token();
    const appended = await appendJsonLines(this.paths.registryJournal, fence === undefined ? lines : lines.map((line) => ({ ...line, fence })));
    if (appended) this.options.onBytesChanged?.(appended.after - appended.before);
    if (fence === undefined || !appended || !this.cluster) this.seen.journal = fileIdentity(this.paths.registryJournal);
    else {
      this.maxFence = fence;
      const version = this.cluster.version ?? { generation: 0, journalBytes: 0, journalLines: 0, fence };
      if (appended.before !== version.journalBytes || appended.sizeAfterWrite !== appended.after) {
        // Bytes nobody recorded are mixed with ours (a stalled ex-holder's lines, a torn line):
        // replaying the journal would count them, so the registry as this holder knows it replaces it.
        this.options.logger.warn(`${this.paths.registryJournal}: bytes not written by the lease holder; rewriting the registry`);
        await this.compact();
        return;
      }
      await this.record({ ...version, journalBytes: appended.after, journalLines: this.journalLines, fence });
    }
    if (this.journalLines > Math.max(this.options.minJournalLines, size)) {
      await this.compact();
      return;
    }
    if (size <= this.options.eagerMaxSessions && (this.options.isQuiet?.() ?? true)) {
      // Keep the readable sessions.json current while nothing else is going on. The journal,
      // fsynced above and kept until the next compaction, is what makes the change durable, so
      // this rewrite skips its two fsyncs (after a power loss sessions.json is merely replayed
      // over or rebuilt, as at any load).
      await this.writeRegistryFile(this.cluster?.version?.generation, { durable: false });
      if (fence === undefined) this.seen.registry = fileIdentity(this.paths.registry);
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
    const generation = this.cluster ? (this.cluster.version?.generation ?? 0) + 1 : undefined;
    await this.writeRegistryFile(generation);
    // A crash between these two steps only means the journal is replayed again: puts are idempotent.
    const journalBytes = Number(fileIdentity(this.paths.registryJournal)?.size ?? 0n);
    try {
      unlinkSync(this.paths.registryJournal);
      this.options.onBytesChanged?.(-journalBytes);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.journalLines = 0;
    const fence = this.cluster?.token();
    if (generation === undefined || fence === undefined) {
      this.seen = { registry: fileIdentity(this.paths.registry), journal: undefined };
      return;
    }
    this.maxFence = fence;
    await this.record({ generation, journalBytes: 0, journalLines: 0, fence });
  }

  /** Cluster: records the version written; when a newer holder recorded one meanwhile, refuses and reloads at the next access. */
  private async record(version: RegistryVersion): Promise<void> {
    try {
      await this.cluster?.record(version);
    } catch (error) {
      this.stale = true;
      throw error;
    }
  }

  /** Rewrites sessions.json; in cluster mode stamped with `generation` and the writer's fence, and only while the lease holds. */
  private async writeRegistryFile(generation: number | undefined, options: { durable?: boolean } = {}): Promise<void> {
    const { cluster } = this;
    const fence = cluster?.token();
    const stamp: RegistryStamp | undefined = fence === undefined || generation === undefined ? undefined : { fence, generation };
    const text = registryFileText(this.list(), stamp);
    const before = Number(fileIdentity(this.paths.registry)?.size ?? 0n);
    // The last check before replacing the file: still the holder, and no newer holder recorded in Redis.
    const beforeRename = cluster ? () => cluster.confirm() : undefined;
    await writeFileAtomic(this.paths.registry, text, 0o600, { ...options, ...(beforeRename ? { beforeRename } : {}) });
    this.options.onBytesChanged?.(Buffer.byteLength(text) - before);
  }

  /**
   * sessions.json with the journal replayed over it (up to the length `target` recorded, in
   * cluster mode). `complete` is false when sessions.json is missing or unreadable; `tracked`
   * false when the files are not the ones `target` describes (another generation, a shorter
   * journal, or no version recorded), so the caller rewrites them.
   */
  private async readRegistryFiles(target: RegistryVersion | undefined): Promise<{ complete: boolean; tracked: boolean }> {
    const { logger } = this.options;
    this.sessions = new Map();
    this.journalLines = 0;
    this.maxFence = -1;
    let complete = false;
    let tracked = target !== undefined;
    const parsed = await readRegistry(this.paths.registry);
    if (parsed !== undefined) {
      if (parsed !== "unreadable") {
        this.sessions = parsed.sessions;
        this.maxFence = parsed.stamp?.fence ?? -1;
        if (target && parsed.stamp && parsed.stamp.generation !== target.generation) tracked = false;
        complete = true;
      } else logger.warn(`${this.paths.registry} is unreadable; rebuilding it from the transcripts`);
    }
    const journal = await readJournalRange(this.paths.registryJournal, 0, tracked ? target?.journalBytes : undefined);
    if (journal.short) tracked = false;
    if (journal.skippedLines.length > 0) logger.warn(`${this.paths.registryJournal}: skipped unreadable line(s) ${journal.skippedLines.join(", ")}`);
    this.applyJournal(journal.values);
    this.journalLines = journal.values.length + journal.skippedLines.length;
    return { complete, tracked };
  }

  /** First load, under the lock or lease: registry files, then reconciled with the transcripts and cleaned of crash leftovers. */
  private async loadFromDisk(): Promise<void> {
    if (this.cluster) return this.reloadInCluster(this.cluster, await this.cluster.fetch(), true);
    const { complete } = await this.readRegistryFiles(undefined);
    const changed = await reconcileWithTranscripts(this.paths, this.sessions, this.options);
    if (changed || !complete) this.journalLines += 1;
    if (this.journalLines > 0) await this.compact();
    this.seen = { registry: fileIdentity(this.paths.registry), journal: fileIdentity(this.paths.registryJournal) };
  }
}
