import { open, readFile } from "node:fs/promises";
import { SessionSummary } from "@workforce/protocol";
import { z } from "zod";
import { isNotFound } from "../fs/errno";
import { parseJson, parseJsonLines, type JsonLinesResult } from "../fs/jsonl-file";

const Fence = z.number().int().nonnegative();

/**
 * One entry of sessions.json. In cluster mode every entry also carries the fencing token and
 * generation of the rewrite that wrote the file (docs/decisions/026): the file stays a plain
 * map of session key → summary for every other reader.
 */
const RegistryEntry = SessionSummary.extend({ fence: Fence.optional(), generation: Fence.optional() });

/** One line of sessions.journal.jsonl: a change made since sessions.json was last written; `fence` in cluster mode. */
export const JournalLine = z.discriminatedUnion("op", [
  z.object({ op: z.literal("put"), session: SessionSummary, fence: Fence.optional() }),
  z.object({ op: z.literal("delete"), key: z.string(), fence: Fence.optional() }),
]);
export type JournalLine = z.infer<typeof JournalLine>;

/** What a cluster-mode write records in the files: the writer's token and the registry's generation. */
export interface RegistryStamp {
  fence: number;
  generation: number;
}

export function registryFileText(sessions: readonly SessionSummary[], stamp: RegistryStamp | undefined): string {
  const body: Record<string, SessionSummary & Partial<RegistryStamp>> = {};
  for (const session of sessions) body[session.key] = stamp ? { ...session, ...stamp } : session;
  return JSON.stringify(body, null, 2) + "\n";
}

/** sessions.json's entries (stamps removed) and the newest stamp among them. */
export interface ParsedRegistry {
  sessions: Map<string, SessionSummary>;
  stamp: RegistryStamp | undefined;
}

/** Validates sessions.json's entries as they come (all at once, or in batches from a worker). */
export class RegistryAccumulator {
  private readonly sessions = new Map<string, SessionSummary>();
  private stamp: RegistryStamp | undefined;

  /** False when an entry is not a valid one: the whole file is then unreadable. */
  addAll(entries: Iterable<[string, unknown]>): boolean {
    for (const [key, value] of entries) {
      const parsed = RegistryEntry.safeParse(value);
      if (!parsed.success) return false;
      const { fence, generation, ...session } = parsed.data;
      this.sessions.set(key, session);
      const stamp = this.stamp;
      if (fence !== undefined && generation !== undefined && (!stamp || generation > stamp.generation || (generation === stamp.generation && fence > stamp.fence))) {
        this.stamp = { fence, generation };
      }
    }
    return true;
  }

  result(): ParsedRegistry {
    return { sessions: this.sessions, stamp: this.stamp };
  }
}

/** sessions.json's entries (stamps removed) and the newest stamp among them; undefined when unreadable. */
export function parseRegistryFile(text: string): ParsedRegistry | undefined {
  const body = parseJson(text);
  if (body === null || typeof body !== "object" || Array.isArray(body)) return undefined;
  const accumulator = new RegistryAccumulator();
  return accumulator.addAll(Object.entries(body)) ? accumulator.result() : undefined;
}

export async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * The journal's lines between byte `from` and byte `to` (the end of the file when undefined),
 * read through a fresh open, so on NFS close-to-open consistency gives the server's content.
 * `short` when the file (missing counts as empty) ends before `to`.
 */
export async function readJournalRange(file: string, from: number, to: number | undefined): Promise<JsonLinesResult<JournalLine> & { short: boolean }> {
  let handle;
  try {
    handle = await open(file, "r");
  } catch (error) {
    if (!isNotFound(error)) throw error;
    return { values: [], skippedLines: [], short: (to ?? 0) > from };
  }
  try {
    const end = to ?? (await handle.stat()).size;
    const buffer = Buffer.alloc(Math.max(0, end - from));
    let read = 0;
    while (read < buffer.length) {
      const { bytesRead } = await handle.read(buffer, read, buffer.length - read, from + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return { ...parseJsonLines(buffer.subarray(0, read).toString("utf8"), JournalLine), short: read < buffer.length };
  } finally {
    await handle.close();
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Reads until the files reach what Redis recorded: an NFS client may serve a stale view for a
 * moment. Files still `behind` after a few fresh opens are returned as they are (the caller
 * treats them as damaged and rewrites them).
 */
export async function readUntilCurrent<R>(read: () => Promise<R>, behind: (result: R) => boolean, attempts = 4): Promise<R> {
  for (let attempt = 1; ; attempt += 1) {
    const result = await read();
    if (!behind(result) || attempt >= attempts) return result;
    await pause(10 * 2 ** attempt);
  }
}
