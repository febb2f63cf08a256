import { randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, unlinkSync, utimesSync } from "node:fs";
import { ModelInfo } from "@workforce/protocol";
import { runJournalPath, runJournalsDirPath } from "@workforce/protocol/tenant-path";
import { z } from "zod";
import { writeFileAtomic } from "../fs/atomic-write";
import { errnoCode } from "../fs/errno";
import { lockHostId } from "../fs/file-lock";
import { appendJsonLines, parseJsonLines } from "../fs/jsonl-file";
import type { Logger } from "../logger";

/** The first line of a journal: which process writes it, so another can tell when it is gone. */
export const JournalHeader = z.object({ type: z.literal("process"), host: z.string(), pid: z.number().int(), token: z.string(), startedAt: z.string() });
export type JournalHeader = z.infer<typeof JournalHeader>;

/** A run submitted and not yet ended: only identifiers (no message text), enough to end it as interrupted. */
export const InFlightRun = z.object({
  runId: z.string(),
  tenantId: z.string(),
  agent: z.string(),
  sessionKey: z.string(),
  sessionId: z.string(),
  model: ModelInfo,
  at: z.string(),
});
export type InFlightRun = z.infer<typeof InFlightRun>;

const JournalLine = z.discriminatedUnion("type", [
  JournalHeader,
  InFlightRun.extend({ type: z.literal("submit") }),
  z.object({ type: z.literal("end"), runId: z.string() }),
]);
type JournalLine = z.infer<typeof JournalLine>;

export interface InFlightJournalOptions {
  dataDir: string;
  logger: Logger;
  /** Rewritten to its runs still in flight once it has this many lines; default 10,000. */
  maxLines?: number;
  /** How often the file's time is refreshed, so a process on another host can tell it is alive; default 10 s. */
  heartbeatMs?: number;
}

/**
 * Each gateway process's record of its runs in flight, `TENANT_DATA_DIR/.workforce-runs/{token}.jsonl`:
 * a line (fsynced) when a run is submitted and one when it ends (written at once, synced with the
 * next submit), so a run survives its process as
 * a fact: the next start (or another process on this host, see interrupted-runs.ts) finds what a
 * killed process left unfinished and ends it `run_interrupted` instead of forgetting it. Appends
 * arriving while one is written go together in one write and one fdatasync. Append-only, rewritten
 * (atomically) to just the runs still in flight when it grows past `maxLines`; removed at a clean
 * shutdown.
 */
export interface InFlightJournal {
  readonly token: string;
  readonly file: string;
  /** Records a run before it is queued; resolves once durable. Never rejects: a failure is logged, the run goes on. */
  submitted(run: InFlightRun): Promise<void>;
  /** Records a run's end (durable shortly after; nothing waits for it). */
  ended(runId: string): void;
  /** Runs recorded and not ended. */
  live(): InFlightRun[];
  /** Waits for pending writes; removes the file when no run is left in flight (else the next start recovers them). */
  close(): Promise<void>;
}

export function createInFlightJournal(options: InFlightJournalOptions): InFlightJournal {
  const token = randomBytes(8).toString("hex");
  const file = runJournalPath(options.dataDir, `${token}.jsonl`);
  const header: JournalHeader = { type: "process", host: lockHostId(), pid: process.pid, token, startedAt: new Date().toISOString() };
  const maxLines = options.maxLines ?? 10_000;
  const live = new Map<string, InFlightRun>();
  let lines = 0;
  let created = false;
  const queue: { line: JournalLine; done: () => void }[] = [];
  let writing: Promise<void> | undefined;
  let lastWarning = 0;
  const heartbeat = setInterval(() => {
    if (!created) return;
    try {
      const at = new Date();
      utimesSync(file, at, at);
    } catch {
      // written again (and so recreated) with the next run
    }
  }, options.heartbeatMs ?? 10_000);
  heartbeat.unref();

  async function write(batch: readonly JournalLine[]): Promise<void> {
    const body = () => [header, ...[...live.values()].map((run) => ({ type: "submit" as const, ...run }))];
    if (!created) {
      // One append of whole lines (no temp file a kill could leave behind): the header plus the runs in flight.
      mkdirSync(runJournalsDirPath(options.dataDir), { recursive: true, mode: 0o700 });
      const first = body();
      await appendJsonLines(file, first);
      created = true;
      lines = first.length;
      return;
    }
    if (lines + batch.length > maxLines) {
      // Rotated: the runs still in flight (the batch already applied), replacing the file atomically.
      const rotated = body();
      await writeFileAtomic(file, rotated.map((line) => JSON.stringify(line)).join("\n") + "\n");
      lines = rotated.length;
      return;
    }
    // A run's end needs no fdatasync of its own (issue 17: it was one of five per run): the write
    // survives the process, and the file's next synced append (the next run's submit) takes it to
    // disk. Lost to a machine crash, the run reads as in flight at the next start, and marking
    // leaves a run whose reply is in its transcript alone (interrupted-runs.ts).
    await appendJsonLines(file, batch, { create: false, sync: batch.some((line) => line.type !== "end") });
    lines += batch.length;
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const batch = queue.splice(0);
      try {
        await write(batch.map((item) => item.line));
      } catch (error) {
        if (errnoCode(error) === "ENOENT") created = false; // removed under us: written whole next time
        if (Date.now() - lastWarning > 30_000) {
          lastWarning = Date.now();
          options.logger.warn(`run journal ${file}: could not record runs in flight; a crash now would leave them unmarked (${errnoCode(error) ?? String(error)})`);
        }
      }
      for (const item of batch) item.done();
    }
    writing = undefined;
  }

  function enqueue(line: JournalLine): Promise<void> {
    return new Promise<void>((resolve) => {
      queue.push({ line, done: resolve });
      writing ??= drain();
    });
  }

  return {
    token,
    file,
    submitted(run) {
      live.set(run.runId, run);
      return enqueue({ type: "submit", ...run });
    },
    ended(runId) {
      if (!live.delete(runId)) return;
      void enqueue({ type: "end", runId });
    },
    live: () => [...live.values()],
    async close() {
      clearInterval(heartbeat);
      while (writing) await writing;
      if (live.size > 0 || !created) return;
      try {
        unlinkSync(file);
      } catch {
        // already gone
      }
    },
  };
}

/** What a journal file says: its writer, the runs it left in flight, and when it was last touched. */
export interface JournalContents {
  header: JournalHeader;
  live: InFlightRun[];
  ageMs: number;
}

/** Reads another process's journal; undefined when it is gone or has no readable header. */
export function readInFlightJournal(file: string): JournalContents | undefined {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(file).mtimeMs;
    text = readFileSync(file, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw error;
  }
  const { values } = parseJsonLines(text, JournalLine);
  const first = values[0];
  if (first?.type !== "process") return undefined;
  const live = new Map<string, InFlightRun>();
  for (const line of values) {
    if (line.type === "submit") {
      const { type: _type, ...run } = line;
      live.set(run.runId, run);
    } else if (line.type === "end") live.delete(line.runId);
  }
  return { header: first, live: [...live.values()], ageMs: Date.now() - mtimeMs };
}
