import { readdirSync, unlinkSync } from "node:fs";
import path from "node:path";
import { AppError, type AssistantMessageEntry, type RunEvent, type RunInfo, type TranscriptEntry } from "@workforce/protocol";
import { runJournalPath, runJournalsDirPath } from "@workforce/protocol/tenant-path";
import { errnoCode } from "../fs/errno";
import { lockHostId, processAlive } from "../fs/lock-owner";
import { errorText, type Logger } from "../logger";
import type { SessionRef, SessionStore } from "../sessions/session-store";
import type { Transcript } from "../sessions/transcript";
import { readInFlightJournal, type InFlightJournal, type InFlightRun, type JournalHeader } from "./in-flight-journal";
import type { LocatedRun } from "./run-manager";

/** What a client is told about a run whose gateway died under it. */
export const RUN_INTERRUPTED_MESSAGE = "the gateway running this reply stopped (it crashed or was restarted) before the reply was complete; send the message again";

/** The assistant entry that closes a run its gateway never finished: the next message then follows a reply, not a second user entry. */
export function interruptedEntry(run: Pick<InFlightRun, "runId" | "model">, parentId: string | null, at: string, id: string): AssistantMessageEntry {
  return {
    type: "assistant",
    id,
    parentId,
    timestamp: at,
    runId: run.runId,
    content: [],
    model: run.model,
    usage: { inputTokens: 0, outputTokens: 0 },
    stopReason: "interrupted",
    interrupted: { code: "run_interrupted", message: RUN_INTERRUPTED_MESSAGE },
  };
}

export interface MarkDeps {
  sessions: SessionStore;
  now: () => Date;
  newId: () => string;
}

/**
 * Under the session's run lease: when the transcript ends inside `run` (its user message, a tool
 * step), appends the interrupted marker. Anything else (the run never started, it finished, or
 * someone already marked it) is left alone, so marking twice is harmless.
 */
/**
 * The transcript's last entry when a run stopped right after it (its user message, a tool step): the
 * entry the marker follows. A run that paused for an approval (issue 15) stopped on purpose: its
 * turn is left open for the decision's run.
 */
function cutOffTail(transcript: Pick<Transcript, "entries" | "pendingApproval">): Exclude<TranscriptEntry, { type: "compaction" }> | undefined {
  const last = transcript.entries.at(-1);
  if (!last || last.type === "compaction" || last.runId === undefined) return undefined;
  if (transcript.pendingApproval?.runId === last.runId) return undefined;
  if (last.type === "assistant" && (last.interrupted || !last.content.some((block) => block.type === "tool-call"))) return undefined;
  return last;
}

/**
 * Inside a session lease taken over from a holder that died (`onTakeOver`): closes the run that
 * holder left cut off with the interrupted marker, before the new run's message. Covers what no
 * journal or reaper reported (a holder on another machine without Redis).
 */
export async function markTakenOverSession(deps: MarkDeps, ref: SessionRef, sessionId: string): Promise<void> {
  const transcript = await deps.sessions.readTranscript(ref, sessionId);
  const last = cutOffTail(transcript);
  if (!last?.runId) return;
  const model = transcript.entries.findLast((entry) => entry.type === "assistant")?.model ?? { provider: "unknown", id: "unknown", offline: false };
  const run = { runId: last.runId, model };
  await deps.sessions.append(ref, transcript.header.key, [interruptedEntry(run, last.id, deps.now().toISOString(), deps.newId())]);
}

export async function markInterrupted(deps: MarkDeps, run: InFlightRun, signal: AbortSignal, timeoutMs: number): Promise<boolean> {
  const ref: SessionRef = { tenantId: run.tenantId, agent: run.agent };
  const cutOff = async () => {
    const last = cutOffTail(await deps.sessions.readTranscript(ref, run.sessionId));
    return last?.runId === run.runId ? last : undefined;
  };
  // Under the session's lease (the dead holder's expires first): mark the cut-off message, or,
  // when the run's lines all reached the transcript, recount the registry entry, which the dead
  // process may not have updated (in cluster mode no lock file is left behind to say so).
  return deps.sessions.withSessionLease(ref, run.sessionId, { signal, timeoutMs }, async () => {
    const last = await cutOff();
    if (!last) {
      await deps.sessions.recount(ref, run.sessionKey, run.sessionId).catch((error: unknown) => {
        if (!(error instanceof AppError && error.code === "session_not_found")) throw error;
      });
      return false;
    }
    await deps.sessions.append(ref, run.sessionKey, [interruptedEntry(run, last.id, deps.now().toISOString(), deps.newId())]);
    return true;
  });
}

/**
 * A run ended `run_interrupted`: its start, then its end after whatever seq the follower already
 * saw. How many events it had is not known (its process died with them), so its info says lastSeq 0.
 */
export function interruptedRun(run: InFlightRun, at: string): LocatedRun {
  const info = (): RunInfo => ({ runId: run.runId, agent: run.agent, sessionKey: run.sessionKey, sessionId: run.sessionId, status: "error", lastSeq: 0 });
  return {
    info,
    events: {
       
      async *follow(after): AsyncGenerator<RunEvent> {
        if (after < 1) yield { type: "run-start", runId: run.runId, seq: 1, agent: run.agent, sessionKey: run.sessionKey, sessionId: run.sessionId, model: run.model, at: run.at };
        yield {
          type: "run-end",
          runId: run.runId,
          seq: Math.max(2, after + 1),
          status: "error",
          usage: { inputTokens: 0, outputTokens: 0 },
          error: { code: "run_interrupted", message: RUN_INTERRUPTED_MESSAGE, retryable: true },
          at,
        };
      },
    },
    abort: () => Promise.resolve(info()),
  };
}

export interface InterruptedRunsDeps extends MarkDeps {
  dataDir: string;
  /** This process's journal: runs taken over from a dead one are recorded there until marked. */
  journal: InFlightJournal;
  logger: Logger;
  /** How long an interrupted run stays answerable (the run retention). */
  retentionMs: number;
  /** Longest wait for a session's run lease while marking (the run timeout). */
  leaseTimeoutMs: number;
  /** A journal untouched this long is a dead process's, whatever its host; default 60 s. */
  staleMs?: number;
  /** How often other processes' journals are looked at; default 5 s. */
  sweepMs?: number;
  /** Interrupted runs kept answerable at most; default 10,000 (oldest forgotten first). */
  maxRemembered?: number;
  /** Cluster mode: ends the run for followers on other gateways too (Redis). Must not throw. */
  onInterrupted?: (run: InFlightRun) => Promise<void>;
}

export interface InterruptedRuns {
  /** A run a dead gateway process left behind, ended `run_interrupted`; undefined for any other. */
  find(tenantId: string, runId: string): LocatedRun | undefined;
  /** Takes over a run a dead gateway left (found by the cluster's reaper): answered as interrupted here, and marked in its transcript. */
  adopt(run: InFlightRun): void;
  /** Settles once the session's runs left behind are marked in its transcript; a new run waits for it. */
  settled(ref: SessionRef, sessionId: string): Promise<void>;
  /** Looks for journals of dead processes now (also done at start and every `sweepMs`). */
  sweep(): void;
  /** Settles when every marking started so far is done (tests, shutdown). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Ends the runs of gateway processes that died mid-run (SIGKILL, OOM, power loss): their journals
 * (in-flight-journal.ts) still list runs without an end. The owner is dead when it ran on this host
 * (same PID namespace) and its pid is gone (or is ours, from before we started), or when its journal has not been touched for
 * `staleMs`. Its runs are copied into this process's journal, its file removed, and each run is
 * then answered as ended `run_interrupted` (status, replay, live follow) for the retention period,
 * and its transcript gets the interrupted marker under the session's run lease, before any new run
 * of that session starts.
 */
export function createInterruptedRuns(deps: InterruptedRunsDeps): InterruptedRuns {
  const staleMs = deps.staleMs ?? 60_000;
  const maxRemembered = deps.maxRemembered ?? 10_000;
  const host = lockHostId();
  const processStartedAt = Date.now() - process.uptime() * 1000;
  const remembered = new Map<string, { run: InFlightRun; located: LocatedRun; until: number }>();
  const marking = new Map<string, Promise<void>>();
  const closing = new AbortController();
  const sessionOf = (run: { tenantId: string; agent: string; sessionId: string }) => `${run.tenantId}/${run.agent}/${run.sessionId}`;

  function dead(header: JournalHeader, ageMs: number): boolean {
    if (header.token === deps.journal.token) return false;
    if (header.host === host && header.pid !== process.pid && !processAlive(header.pid)) return true;
    // Our own pid: an earlier process that had it (pid 1 in a container) or, when it started after us, a sibling in this process (tests).
    if (header.host === host && header.pid === process.pid) return Date.parse(header.startedAt) < processStartedAt;
    return ageMs > staleMs;
  }

  function remember(run: InFlightRun): void {
    remembered.delete(run.runId);
    remembered.set(run.runId, { run, located: interruptedRun(run, deps.now().toISOString()), until: Date.now() + deps.retentionMs });
    for (const [runId, kept] of remembered) {
      if (remembered.size <= maxRemembered && kept.until > Date.now()) break;
      remembered.delete(runId);
    }
  }

  async function finish(run: InFlightRun): Promise<void> {
    try {
      if (await markInterrupted(deps, run, closing.signal, deps.leaseTimeoutMs)) deps.logger.warn(`run ${run.runId}: its gateway process died mid-run; marked interrupted in its transcript`);
      deps.journal.ended(run.runId);
    } catch (error) {
      // Kept in this process's journal: the next start tries again.
      if (!closing.signal.aborted) deps.logger.warn(`run ${run.runId}: could not mark it interrupted in its transcript (${errorText(error)})`);
    }
    if (!closing.signal.aborted) await deps.onInterrupted?.(run);
  }

  /** Marks the session's runs one after another (in submit order), after any marking already under way there. */
  function schedule(runs: readonly InFlightRun[]): void {
    for (const run of runs) {
      const key = sessionOf(run);
      const before = marking.get(key) ?? Promise.resolve();
      const next = before.then(() => finish(run));
      marking.set(key, next);
      void next.finally(() => {
        if (marking.get(key) === next) marking.delete(key);
      });
    }
  }

  function adoptFrom(name: string): void {
    const file = runJournalPath(deps.dataDir, name);
    const found = readInFlightJournal(file);
    if (!found || !dead(found.header, found.ageMs)) return;
    const runs = found.live.filter((run) => !remembered.has(run.runId));
    for (const run of runs) remember(run);
    schedule(runs);
    // Ours from now on: recorded here before the dead one's file goes, so a crash in between loses nothing.
    void Promise.all(runs.map((run) => deps.journal.submitted(run))).then(() => {
      try {
        const again = readInFlightJournal(file);
        if (again?.header.token === found.header.token) unlinkQuietly(file);
      } catch {
        // looked at again at the next sweep
      }
    });
    if (runs.length > 0) deps.logger.warn(`gateway process ${found.header.pid} on ${found.header.host} died with ${runs.length} run(s) in flight; ending them run_interrupted`);
  }

  function sweep(): void {
    let names: string[];
    try {
      names = readdirSync(runJournalsDirPath(deps.dataDir));
    } catch (error) {
      if (errnoCode(error) !== "ENOENT") deps.logger.warn(`cannot list run journals (${errnoCode(error) ?? String(error)})`);
      return;
    }
    for (const name of names) {
      const leftover = /^\.([0-9a-f]{8,64}\.jsonl)\.[0-9a-f]+\.tmp$/.exec(name)?.[1];
      if (leftover && leftover !== `${deps.journal.token}.jsonl` && !names.includes(leftover)) {
        // A rotation cut short by its process's death (the journal itself was adopted already).
        unlinkQuietly(path.join(runJournalsDirPath(deps.dataDir), name));
        continue;
      }
      if (!/^[0-9a-f]{8,64}\.jsonl$/.test(name) || name === `${deps.journal.token}.jsonl`) continue;
      try {
        adoptFrom(name);
      } catch (error) {
        deps.logger.warn(`run journal ${name}: unreadable (${errnoCode(error) ?? String(error)})`);
      }
    }
    for (const [runId, kept] of remembered) if (kept.until <= Date.now()) remembered.delete(runId);
  }

  sweep();
  const timer = setInterval(sweep, deps.sweepMs ?? 5_000);
  timer.unref();

  return {
    find(tenantId, runId) {
      const kept = remembered.get(runId);
      return kept?.run.tenantId === tenantId ? kept.located : undefined;
    },
    adopt(run) {
      if (remembered.has(run.runId)) return;
      remember(run);
      schedule([run]);
      void deps.journal.submitted(run);
    },
    settled: (ref, sessionId) => marking.get(sessionOf({ ...ref, sessionId })) ?? Promise.resolve(),
    sweep,
    async idle() {
      while (marking.size > 0) await Promise.allSettled([...marking.values()]);
    },
    async close() {
      clearInterval(timer);
      closing.abort(new DOMException("the gateway is shutting down", "AbortError"));
      await Promise.allSettled([...marking.values()]);
    },
  };
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // removed by another process meanwhile
  }
}

/**
 * The session store as runs see it: a run waits until the runs its session was left with are
 * marked, and one that takes the session's lease over from a dead holder marks what it left, so the
 * run's message always follows a reply.
 */
export function waitingForInterruptedRuns(deps: MarkDeps & { logger: Logger }, interrupted: Pick<InterruptedRuns, "settled">): SessionStore {
  const { sessions } = deps;
  // Not marking is better than failing the new run: its message then follows the cut-off one.
  const markTakenOver = (ref: SessionRef, sessionId: string) =>
    markTakenOverSession(deps, ref, sessionId).catch((error: unknown) => deps.logger.warn(`session ${sessionId}: could not mark the run a dead gateway left (${errorText(error)})`));
  return {
    ...sessions,
    withSessionLease: async (ref, sessionId, options, task) => {
      await interrupted.settled(ref, sessionId);
      return sessions.withSessionLease(ref, sessionId, { ...options, onTakeOver: () => markTakenOver(ref, sessionId) }, task);
    },
  };
}
