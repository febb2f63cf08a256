import { closeSync, constants, fstatSync, openSync, readSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { ApprovalDecisionLine, ApprovalRequestLine, SessionMetaEntry, TranscriptEntry, TranscriptHeader, type PendingApproval, type TranscriptLine } from "@workforce/protocol";
import { writeFileAtomic } from "../fs/atomic-write";
import { isNotFound } from "../fs/errno";
import { appendJsonLines, parseJson, type AppendedRange } from "../fs/jsonl-file";

export interface Transcript {
  header: TranscriptHeader;
  /** The messages, in order; session-meta lines are folded into the fields below instead. */
  entries: TranscriptEntry[];
  /** The latest title recorded by a session-meta line (a rename, or a generated title before any rename), if any. */
  title: string | undefined;
  /** Whose `title` is: the user's (a rename) or the title step's; a generated title never replaces the user's (decision 043). */
  titleSource: "user" | "generated" | undefined;
  /** 1-based line numbers skipped as unreadable (usually a torn last line after a crash). */
  skippedLines: number[];
  /** The highest fencing token seen so far (0 when no line carries one: one gateway, no cluster). */
  fence: number;
  /** 1-based line numbers ignored because a gateway that had lost the session wrote them (a fence lower than one before). */
  fencedLines: number[];
  /** The tool call the session waits on: the last approval request without a decision (issue 15). */
  pendingApproval: PendingApproval | undefined;
  /** Every approval the session asked for, by id, with its decision once made. Replaced, never changed in place (cached copies share it). */
  approvals: ReadonlyMap<string, TranscriptApproval>;
  /** Runs whose user message an edit or regenerate withdrew (decision 041). Replaced, never changed in place. */
  withdrawnRuns: ReadonlySet<string>;
}

/** An approval as its transcript lines tell it. */
export interface TranscriptApproval {
  request: ApprovalRequestLine;
  decision: ApprovalDecisionLine | undefined;
}

/** A transcript with nothing in it but its header. */
export function emptyTranscript(header: TranscriptHeader): Transcript {
  return { header, entries: [], title: undefined, titleSource: undefined, skippedLines: [], fence: 0, fencedLines: [], pendingApproval: undefined, approvals: new Map(), withdrawnRuns: new Set() };
}

/** Transcripts up to this size are read in one synchronous call (microseconds from the page cache); larger ones off the event loop. */
const SYNC_READ_MAX_BYTES = 256 * 1024;

/** Creates `{sessionId}.jsonl` with its header line, durably; returns the bytes written. */
export async function createTranscript(filePath: string, header: TranscriptHeader): Promise<number> {
  const text = JSON.stringify(header) + "\n";
  await writeFileAtomic(filePath, text);
  return Buffer.byteLength(text);
}

/**
 * Appends completed entries (or session-meta lines) and fsyncs before returning. The transcript
 * must exist (ENOENT otherwise): a deleted session is never re-created without its header. A
 * symbolic link in its place is refused (ELOOP): transcripts are checked by their directory.
 */
export async function appendTranscriptEntries(filePath: string, entries: readonly TranscriptLine[]): Promise<void> {
  await appendTranscriptLines(filePath, entries);
}

/** `appendTranscriptEntries`, telling where the lines landed (for `TranscriptCache`). */
export async function appendTranscriptLines(filePath: string, entries: readonly TranscriptLine[]): Promise<AppendedRange | undefined> {
  return appendJsonLines(filePath, entries, { create: false, noFollow: true });
}

/** A transcript as read, with the file it came from: its inode and how many bytes were parsed. */
export interface TranscriptSnapshot {
  transcript: Transcript;
  ino: number;
  bytes: number;
}

/**
 * Reads a transcript. Returns undefined when the file is missing or its header is unreadable;
 * skips (and reports) unreadable entry lines instead of failing, so a crash never loses earlier lines.
 */
export async function readTranscript(filePath: string): Promise<Transcript | undefined> {
  return (await readTranscriptSnapshot(filePath))?.transcript;
}

/** `readTranscript` plus the file identity `TranscriptCache` keys on; `known` short-cuts reading when the file is still what it describes. */
export async function readTranscriptSnapshot(filePath: string, known?: (ino: number, size: number) => TranscriptSnapshot | undefined): Promise<TranscriptSnapshot | undefined> {
  let fd: number;
  try {
    fd = openSync(filePath, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  let text: string;
  let ino: number;
  try {
    const stat = fstatSync(fd);
    ino = stat.ino;
    const cached = known?.(stat.ino, stat.size);
    if (cached) return cached;
    if (stat.size > SYNC_READ_MAX_BYTES) {
      text = await readFile(filePath, { encoding: "utf8", flag: constants.O_RDONLY | constants.O_NOFOLLOW });
    } else {
      const buffer = Buffer.allocUnsafe(stat.size);
      let read = 0;
      while (read < buffer.length) {
        const count = readSync(fd, buffer, read, buffer.length - read, read);
        if (count === 0) break;
        read += count;
      }
      text = buffer.toString("utf8", 0, read);
    }
  } finally {
    closeSync(fd);
  }
  const transcript = parseTranscript(text);
  return transcript ? { transcript, ino, bytes: Buffer.byteLength(text, "utf8") } : undefined;
}

/** Parses a transcript's text; undefined when its header is unreadable. */
export function parseTranscript(text: string): Transcript | undefined {
  const lines = text.split("\n");
  const header = TranscriptHeader.safeParse(parseJson(lines[0] ?? ""));
  if (!header.success) return undefined;
  const transcript = emptyTranscript(header.data);
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    if (line.trim() === "") continue;
    const value = parseJson(line);
    const parsed = parseLine(value);
    if (!parsed) transcript.skippedLines.push(index + 1);
    else if (!foldLine(transcript, parsed)) transcript.fencedLines.push(index + 1);
  }
  return transcript;
}

/** Messages first (nearly every line), then the other kinds. */
function parseLine(value: unknown): TranscriptLine | undefined {
  const entry = TranscriptEntry.safeParse(value);
  if (entry.success) return entry.data;
  return SessionMetaEntry.safeParse(value).data ?? ApprovalRequestLine.safeParse(value).data ?? ApprovalDecisionLine.safeParse(value).data;
}

/** An approval request or decision folded into the transcript's approvals (a new map: cached transcripts share the old one). */
function foldApproval(transcript: Transcript, line: ApprovalRequestLine | ApprovalDecisionLine): void {
  const { fence: _fence, ...clean } = line;
  const approvals = new Map(transcript.approvals);
  if (clean.type === "approval-request") {
    approvals.set(clean.approvalId, { request: clean, decision: undefined });
    const { approvalId, runId, toolCallId, name, input, timestamp } = clean;
    transcript.pendingApproval = { approvalId, runId, toolCallId, name, input, requestedAt: timestamp };
  } else {
    const known = approvals.get(clean.approvalId);
    // A decision without its request (a hand-edited file) decides nothing.
    if (!known) return;
    approvals.set(clean.approvalId, { ...known, decision: clean });
    if (transcript.pendingApproval?.approvalId === clean.approvalId) transcript.pendingApproval = undefined;
  }
  transcript.approvals = approvals;
}

/**
 * Adds one line to a transcript being read (messages to `entries`, a session-meta line's title to
 * `title`), unless its fence is lower than one seen before: then a gateway that had already lost
 * the session wrote it, and it is ignored (false). Fences never reach the entries callers get.
 */
export function foldLine(transcript: Transcript, line: TranscriptLine): boolean {
  if (line.fence !== undefined) {
    if (line.fence < transcript.fence) return false;
    transcript.fence = line.fence;
  }
  if (line.type === "session-meta") {
    if (line.title && !(line.titleSource === "generated" && transcript.titleSource === "user")) {
      transcript.title = line.title;
      transcript.titleSource = line.titleSource ?? "user";
    }
    return true;
  }
  if (line.type === "approval-request" || line.type === "approval-decision") {
    foldApproval(transcript, line);
    return true;
  }
  if ((line.type === "user" || line.type === "compaction") && line.replaces !== undefined) withdraw(transcript, line.replaces);
  if (line.fence === undefined) transcript.entries.push(line);
  else {
    const { fence: _fence, ...entry } = line;
    transcript.entries.push(entry);
  }
  return true;
}

/**
 * An edit or regenerate (decision 041): the entry `fromId` and everything after it leave the
 * conversation (a new array: cached transcripts share the old one). Nothing happens when the
 * entry is not in it (already withdrawn: the run's compaction line and its user entry both say so).
 */
function withdraw(transcript: Transcript, fromId: string): void {
  const index = transcript.entries.findIndex((entry) => entry.id === fromId);
  if (index < 0) return;
  const withdrawn = transcript.entries.slice(index).flatMap((entry) => (entry.type === "user" && entry.runId ? [entry.runId] : []));
  transcript.entries = transcript.entries.slice(0, index);
  transcript.withdrawnRuns = new Set([...transcript.withdrawnRuns, ...withdrawn]);
}
