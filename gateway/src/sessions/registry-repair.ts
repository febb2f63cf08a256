import { readdir, unlink } from "node:fs/promises";
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
  let names: string[];
  try {
    names = await readdir(paths.sessionsDir);
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  const onDisk = new Set(names.filter((name) => name.endsWith(".jsonl") && name !== "sessions.journal.jsonl").map((name) => name.slice(0, -6)));
  let changed = false;
  for (const [key, session] of sessions) {
    if (!onDisk.has(session.sessionId)) {
      sessions.delete(key);
      changed = true;
    }
  }
  const known = new Set([...sessions.values()].map((session) => session.sessionId));
  // Lock files mark sessions whose registry entry may lag their transcript: a transcript lock
  // (an append outside a run) or a run's lease (a run defers its registry update to its end).
  const lockedBy = (suffix: string) => names.filter((name) => name.endsWith(suffix)).map((name) => name.slice(0, -suffix.length));
  const interrupted = new Set([...lockedBy(TRANSCRIPT_LOCK_SUFFIX), ...lockedBy(RUN_LEASE_SUFFIX)]);
  for (const sessionId of onDisk) {
    if (known.has(sessionId) && !interrupted.has(sessionId)) continue;
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
  await removeLeftovers(paths, names);
  return changed;
}

function appendInProgress(paths: AgentPaths, sessionId: string, locks: FileLocks): boolean {
  try {
    return locks.inspect(transcriptLockPath(paths, sessionId)) === "live" || locks.inspect(runLeasePath(paths, sessionId)) === "live";
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
async function removeLeftovers(paths: AgentPaths, names: readonly string[]): Promise<void> {
  for (const name of names) {
    if (!LEFTOVER_TEMP.test(name) && !LEFTOVER_LOCK.test(name)) continue;
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
