import type { Dir } from "node:fs";
import { opendir, unlink } from "node:fs/promises";
import path from "node:path";
import type { SessionSummary } from "@workforce/protocol";
import type { AgentPaths } from "@workforce/protocol/tenant-path";
import { isNotFound } from "../fs/errno";
import { fileIdentity } from "../fs/file-identity";
import type { FileLocks } from "../fs/file-lock";
import type { Logger } from "../logger";
import { summarizeTranscript } from "./session-summary";
import { readTranscript } from "./transcript";

/** Leftovers of atomic writes (`.sessions.json.<hex>.tmp`, `.<sessionId>.jsonl.<hex>.tmp`) ... */
const LEFTOVER_TEMP = /^\..+\.[0-9a-f]+\.tmp$/;
/** ... and of lock take-overs (`<lock>.stale-<hex>`). */
const LEFTOVER_LOCK = /\.lock\.stale-[0-9a-f]+$/;
const TRANSCRIPT_LOCK_SUFFIX = ".jsonl.lock";
const RUN_LEASE_SUFFIX = ".jsonl.run.lock";

/** The lock file that guards appends to one transcript (and, after a crash, marks it as possibly ahead of the registry). */
export function transcriptLockPath(paths: AgentPaths, sessionId: string): string {
  return `${paths.transcript(sessionId)}.lock`;
}

/** The lock file a run holds for its whole duration, so runs of one session never overlap across processes. */
export function runLeasePath(paths: AgentPaths, sessionId: string): string {
  return `${paths.transcript(sessionId)}.run.lock`;
}

export interface RepairDeps {
  logger: Logger;
  locks: FileLocks;
}

/**
 * Transcripts are the source of truth: summarise the ones the registry lost, drop entries whose
 * transcript is gone, refresh the entries of transcripts whose lock file was left by a writer
 * that is gone (a crash between the transcript append and its registry update), and remove
 * crash leftovers. Runs under the registry's lock or lease; changes `sessions` in place and
 * returns whether it changed anything.
 */
export async function reconcileWithTranscripts(paths: AgentPaths, sessions: Map<string, SessionSummary>, deps: RepairDeps): Promise<boolean> {
  let directory: Dir;
  try {
    // Read a slice of names per turn of the event loop: readdir() hands 100,000 names over in
    // one callback, which alone held the loop for tens of milliseconds.
    directory = await opendir(paths.sessionsDir, { bufferSize: 1_024 });
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  // The passes over the sessions below are O(n) in the registry's size as well, so each lets
  // the event loop turn between slices (see `inTurns`).
  const onDisk = new Set<string>();
  // Lock files mark sessions whose registry entry may lag their transcript: a transcript lock
  // (an append outside a run) or a run's lease (a run defers its registry update to its end).
  const interrupted = new Set<string>();
  const leftovers: string[] = [];
  for await (const { name } of directory) {
    if (name.endsWith(".jsonl")) {
      if (name !== "sessions.journal.jsonl") onDisk.add(name.slice(0, -".jsonl".length));
    } else if (name.endsWith(TRANSCRIPT_LOCK_SUFFIX)) interrupted.add(name.slice(0, -TRANSCRIPT_LOCK_SUFFIX.length));
    else if (name.endsWith(RUN_LEASE_SUFFIX)) interrupted.add(name.slice(0, -RUN_LEASE_SUFFIX.length));
    else if (LEFTOVER_TEMP.test(name) || LEFTOVER_LOCK.test(name)) leftovers.push(name);
  }
  let changed = false;
  const known = new Set<string>();
  await inTurns(sessions, ([key, session]) => {
    if (onDisk.has(session.sessionId)) known.add(session.sessionId);
    else {
      sessions.delete(key);
      changed = true;
    }
  });
  const unsettled: string[] = [];
  await inTurns(onDisk, (sessionId) => {
    if (!known.has(sessionId) || interrupted.has(sessionId)) unsettled.push(sessionId);
  });
  for (const sessionId of unsettled) {
    // A live lock is an append or a run in progress (another process): its writer brings the
    // entry up to date from the lines it appends once it gets the registry lock we hold, so
    // summarising the transcript here as well would count those lines twice.
    if (known.has(sessionId) && appendInProgress(paths, sessionId, deps.locks)) continue;
    if (await summarizeFromTranscript(paths, sessionId, sessions, deps.logger)) changed = true;
  }
  for (const sessionId of interrupted) {
    let lockPaths: string[];
    try {
      lockPaths = [transcriptLockPath(paths, sessionId), runLeasePath(paths, sessionId)];
    } catch {
      continue; // not a name the gateway writes
    }
    for (const lockPath of lockPaths) if (deps.locks.inspect(lockPath) === "stale") deps.locks.removeStale(lockPath);
  }
  await removeLeftovers(paths, leftovers);
  return changed;
}

/**
 * Items handled between two turns of the event loop. The repair's passes over a 100,000-session
 * registry, done in one go, held the gateway's event loop for 370-490 ms of CPU time (the health
 * route's 351 ms stall in the bench); a slice of this size is a millisecond or two.
 */
const ITEMS_PER_TURN = 2_000;

/** Calls `visit` on every item, yielding to the event loop after each slice of ITEMS_PER_TURN. */
async function inTurns<T>(items: Iterable<T>, visit: (item: T) => void): Promise<void> {
  let sinceTurn = 0;
  for (const item of items) {
    visit(item);
    sinceTurn += 1;
    if (sinceTurn === ITEMS_PER_TURN) {
      sinceTurn = 0;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

function appendInProgress(paths: AgentPaths, sessionId: string, locks: FileLocks): boolean {
  try {
    return locks.inspect(transcriptLockPath(paths, sessionId)) === "live" || locks.inspect(runLeasePath(paths, sessionId)) === "live";
  } catch {
    return false;
  }
}

/**
 * Temp files of atomic writes interrupted by a crash (`leftovers`: the names either pattern
 * matches). Every such write in this directory happens under the registry lock, which the caller
 * holds, so none of them is in progress right now. Lock files moved aside during a take-over are
 * removed only once old, since a take-over runs outside the lock.
 */
async function removeLeftovers(paths: AgentPaths, leftovers: readonly string[]): Promise<void> {
  for (const name of leftovers) {
    const file = path.join(paths.sessionsDir, name);
    if (LEFTOVER_LOCK.test(name)) {
      const identity = fileIdentity(file);
      if (!identity || Date.now() - Number(identity.mtimeNs / 1_000_000n) < 60_000) continue;
    }
    await unlink(file).catch(() => undefined);
  }
}

async function summarizeFromTranscript(paths: AgentPaths, sessionId: string, sessions: Map<string, SessionSummary>, logger: Logger): Promise<boolean> {
  let transcript;
  try {
    transcript = await readTranscript(paths.transcript(sessionId));
  } catch (error) {
    logger.warn(`cannot read transcript ${sessionId}: ${String(error)}`);
    return false;
  }
  if (!transcript) return false;
  const { key } = transcript.header;
  const current = sessions.get(key);
  // Two transcripts claiming one key (a crash between creating one and naming it): keep the named one.
  if (current && current.sessionId !== sessionId) return false;
  const next = summarizeTranscript(transcript, current);
  if (current && JSON.stringify(current) === JSON.stringify(next)) return false;
  sessions.set(key, next);
  return true;
}
