import { readFile } from "node:fs/promises";
import { SessionMetaEntry, TranscriptEntry, TranscriptHeader, type TranscriptLine } from "@workforce/protocol";
import { writeFileAtomic } from "../fs/atomic-write";
import { isNotFound } from "../fs/errno";
import { appendJsonLines, parseJson } from "../fs/jsonl-file";

export interface Transcript {
  header: TranscriptHeader;
  /** The messages, in order; session-meta lines are folded into the fields below instead. */
  entries: TranscriptEntry[];
  /** The latest title recorded by a session-meta line (a rename), if any. */
  title: string | undefined;
  /** 1-based line numbers skipped as unreadable (usually a torn last line after a crash). */
  skippedLines: number[];
}

/** Creates `{sessionId}.jsonl` with its header line, durably. */
export async function createTranscript(filePath: string, header: TranscriptHeader): Promise<void> {
  await writeFileAtomic(filePath, JSON.stringify(header) + "\n");
}

/**
 * Appends completed entries (or session-meta lines) and fsyncs before returning. The transcript
 * must exist (ENOENT otherwise): a deleted session is never re-created without its header.
 */
export async function appendTranscriptEntries(filePath: string, entries: readonly TranscriptLine[]): Promise<void> {
  await appendJsonLines(filePath, entries, { create: false });
}

/**
 * Reads a transcript. Returns undefined when the file is missing or its header is unreadable;
 * skips (and reports) unreadable entry lines instead of failing, so a crash never loses earlier lines.
 */
export async function readTranscript(filePath: string): Promise<Transcript | undefined> {
  let text: string;
  try {
    text = await readFile(filePath, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  const lines = text.split("\n");
  const header = TranscriptHeader.safeParse(parseJson(lines[0] ?? ""));
  if (!header.success) return undefined;
  const entries: TranscriptEntry[] = [];
  const skippedLines: number[] = [];
  let title: string | undefined;
  for (let index = 1; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    if (line.trim() === "") continue;
    const value = parseJson(line);
    const entry = TranscriptEntry.safeParse(value);
    if (entry.success) {
      entries.push(entry.data);
      continue;
    }
    const meta = SessionMetaEntry.safeParse(value);
    if (meta.success) title = meta.data.title ?? title;
    else skippedLines.push(index + 1);
  }
  return { header: header.data, entries, title, skippedLines };
}
