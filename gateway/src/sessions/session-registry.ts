import { readdir, readFile, unlink } from "node:fs/promises";
import { SessionSummary } from "@workforce/protocol";
import type { AgentPaths } from "@workforce/protocol/tenant-path";
import { z } from "zod";
import { writeFileAtomic } from "../fs/atomic-write";
import { isNotFound } from "../fs/errno";
import { appendJsonLines, parseJson, parseJsonLines } from "../fs/jsonl-file";
import { KeyedLock } from "../fs/keyed-lock";
import type { Logger } from "../logger";
import { summarizeTranscript } from "./session-summary";
import { readTranscript } from "./transcript";

/** Registries up to this size are rewritten whenever the agent goes idle. */
const IDLE_REWRITE_MAX_SESSIONS = 1_000;

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

/**
 * The session registry of one agent, kept in memory. A change costs one small fsynced journal
 * append, independent of how many sessions exist; sessions.json (the readable registry) is
 * rewritten atomically only when the journal outgrows the registry or the agent goes idle, so
 * the amortised cost per message stays constant. On load the journal is replayed over
 * sessions.json, and transcripts the registry does not know are summarised back in.
 */
export class SessionRegistry {
  private sessions = new Map<string, SessionSummary>();
  private journalLines = 0;
  private compactTimer: NodeJS.Timeout | undefined;
  private readonly lock = new KeyedLock();

  private constructor(
    private readonly paths: AgentPaths,
    private readonly options: SessionRegistryOptions,
  ) {}

  static async load(paths: AgentPaths, options: SessionRegistryOptions): Promise<SessionRegistry> {
    const registry = new SessionRegistry(paths, options);
    await registry.readFromDisk();
    return registry;
  }

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

  /**
   * Read-modify-write of one entry under the registry lock, so concurrent updates never lose each
   * other. `change` returns the new summary, or undefined to leave the entry untouched.
   */
  async update(key: string, change: (current: SessionSummary | undefined) => SessionSummary | undefined): Promise<SessionSummary | undefined> {
    return this.lock.run("registry", async () => {
      const next = change(this.sessions.get(key));
      if (!next) return this.sessions.get(key);
      await this.journal({ op: "put", session: next });
      return next;
    });
  }

  async remove(key: string): Promise<SessionSummary | undefined> {
    return this.lock.run("registry", async () => {
      const current = this.sessions.get(key);
      if (!current) return undefined;
      await this.journal({ op: "delete", key });
      return current;
    });
  }

  /** Writes sessions.json now (if anything changed) and empties the journal. */
  async flush(): Promise<void> {
    await this.lock.run("registry", () => this.compact());
  }

  /** Stops the idle timer; call flush() first to persist the compacted form. */
  close(): void {
    if (this.compactTimer) clearTimeout(this.compactTimer);
    this.compactTimer = undefined;
  }

  private async journal(line: JournalLine): Promise<void> {
    await appendJsonLines(this.paths.registryJournal, [line]);
    this.journalLines += 1;
    if (line.op === "put") this.sessions.set(line.session.key, line.session);
    else this.sessions.delete(line.key);
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
      this.lock
        .run("registry", async () => {
          // Idle rewrites stay amortised O(1) per change: big registries wait until the journal is a
          // tenth of their size (or the journal-size trigger / shutdown flush), never every idle moment.
          if (this.sessions.size <= IDLE_REWRITE_MAX_SESSIONS || this.journalLines * 10 >= this.sessions.size) await this.compact();
        })
        .catch((error: unknown) => this.options.logger.error(`could not rewrite ${this.paths.registry}`, error));
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
  }

  private async writeRegistryFile(): Promise<void> {
    const body: Record<string, SessionSummary> = {};
    for (const session of this.list()) body[session.key] = session;
    await writeFileAtomic(this.paths.registry, JSON.stringify(body, null, 2) + "\n");
  }

  private async readFromDisk(): Promise<void> {
    const { logger } = this.options;
    const file = await readOptional(this.paths.registry);
    if (file !== undefined) {
      const parsed = RegistryFile.safeParse(parseJson(file));
      if (parsed.success) this.sessions = new Map(Object.entries(parsed.data));
      else logger.warn(`${this.paths.registry} is unreadable; rebuilding it from the transcripts`);
    }
    const journal = await readOptional(this.paths.registryJournal);
    if (journal !== undefined) {
      const { values, skippedLines } = parseJsonLines(journal, JournalLine);
      if (skippedLines.length > 0) logger.warn(`${this.paths.registryJournal}: skipped unreadable line(s) ${skippedLines.join(", ")}`);
      for (const line of values) {
        if (line.op === "put") this.sessions.set(line.session.key, line.session);
        else this.sessions.delete(line.key);
      }
      this.journalLines = values.length + skippedLines.length;
    }
    const rebuilt = await this.reconcileWithTranscripts();
    if (rebuilt || file === undefined) this.journalLines += 1;
    if (this.journalLines > 0) await this.compact();
  }

  /** Transcripts are the source of truth: summarise the ones the registry lost, drop entries whose transcript is gone. */
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
    for (const sessionId of onDisk) {
      if (known.has(sessionId)) continue;
      let transcript;
      try {
        transcript = await readTranscript(this.paths.transcript(sessionId));
      } catch (error) {
        this.options.logger.warn(`cannot read transcript ${sessionId}: ${String(error)}`);
        continue;
      }
      if (!transcript) continue;
      this.sessions.set(transcript.header.key, summarizeTranscript(transcript, this.sessions.get(transcript.header.key)));
      changed = true;
    }
    return changed;
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
