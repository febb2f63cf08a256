import type { TranscriptLine } from "@workforce/protocol";
import type { AppendedRange } from "../fs/jsonl-file";
import { foldLine, readTranscriptSnapshot, type Transcript, type TranscriptSnapshot } from "./transcript";

export interface TranscriptCacheOptions {
  /** Most transcripts kept parsed (least recently used dropped first). */
  maxTranscripts: number;
  /** Most bytes of transcript files they may stand for, together. */
  maxBytes: number;
}

/**
 * Parsed transcripts of recently active sessions, so a run does not re-read and re-validate its
 * whole session before calling the model. An entry is used only while the file still has the
 * inode and size it had when parsed (one fstat per read), so a change by anyone else (another
 * gateway, a hand edit, a crash repair) is read from disk; appends made here extend the entry.
 */
export class TranscriptCache {
  private readonly entries = new Map<string, TranscriptSnapshot>();
  private bytes = 0;

  constructor(private readonly options: TranscriptCacheOptions) {}

  /** The transcript (a copy the caller may extend), or undefined when missing or unreadable. */
  async read(filePath: string): Promise<Transcript | undefined> {
    const snapshot = await readTranscriptSnapshot(filePath, (ino, size) => {
      const cached = this.entries.get(filePath);
      return cached && cached.ino === ino && cached.bytes === size ? cached : undefined;
    });
    if (!snapshot) {
      this.drop(filePath);
      return undefined;
    }
    this.remember(filePath, snapshot);
    const { transcript } = snapshot;
    return { ...transcript, entries: [...transcript.entries], skippedLines: [...transcript.skippedLines], fencedLines: [...transcript.fencedLines] };
  }

  /** Records lines appended here, so the cached transcript stays current without a read. */
  appended(filePath: string, range: AppendedRange | undefined, lines: readonly TranscriptLine[]): void {
    const cached = this.entries.get(filePath);
    if (!cached || !range) return;
    if (cached.ino !== range.ino || cached.bytes !== range.before) {
      this.drop(filePath);
      return;
    }
    const transcript = { ...cached.transcript, entries: [...cached.transcript.entries] };
    for (const line of lines) foldLine(transcript, line);
    this.remember(filePath, { transcript, ino: range.ino, bytes: range.after });
  }

  drop(filePath: string): void {
    const cached = this.entries.get(filePath);
    if (!cached) return;
    this.entries.delete(filePath);
    this.bytes -= cached.bytes;
  }

  /** Drops every transcript under `prefix` (an agent or tenant going away). */
  dropUnder(prefix: string): void {
    for (const filePath of [...this.entries.keys()]) if (filePath.startsWith(prefix)) this.drop(filePath);
  }

  private remember(filePath: string, snapshot: TranscriptSnapshot): void {
    this.drop(filePath);
    if (snapshot.bytes > this.options.maxBytes / 4) return;
    this.entries.set(filePath, snapshot);
    this.bytes += snapshot.bytes;
    for (const [oldest, cached] of this.entries) {
      if (this.entries.size <= this.options.maxTranscripts && this.bytes <= this.options.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= cached.bytes;
    }
  }
}
