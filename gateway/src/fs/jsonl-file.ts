import { constants, fstatSync, readSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fdatasyncFd, withFd, writeAllSync } from "./sync-file";
import type { z } from "zod";

/**
 * Appends JSON values as lines and fsyncs (fdatasync) before returning. If a crash left the file
 * without a trailing newline (a torn last line), a newline is written first so the new lines stay
 * intact. With `create: false` a missing file is an error (ENOENT) instead of being created
 * headerless; with `noFollow` a symbolic link in place of the file is refused (ELOOP), so a
 * transcript path checked once stays inside its directory without a realpath per append.
 * Everything but the flush is a synchronous microsecond call (see sync-file).
 */
export async function appendJsonLines(filePath: string, values: readonly unknown[], options: { create?: boolean; noFollow?: boolean; sync?: boolean } = {}): Promise<AppendedRange | undefined> {
  if (values.length === 0) return undefined;
  let flags = constants.O_RDWR | constants.O_APPEND;
  if (options.create !== false) flags |= constants.O_CREAT;
  if (options.noFollow) flags |= constants.O_NOFOLLOW;
  const text = values.map((value) => JSON.stringify(value)).join("\n") + "\n";
  return withFd(filePath, flags, 0o600, async (fd) => {
    const { ino, size } = fstatSync(fd);
    const data = Buffer.from(endsTorn(fd, size) ? "\n" + text : text, "utf8");
    writeAllSync(fd, data);
    const sizeAfterWrite = fstatSync(fd).size;
    // sync: false leaves the lines to the page cache (they survive the process, not the machine) until the file's next synced append.
    if (options.sync !== false) await fdatasyncFd(fd);
    return { ino, before: size, after: size + data.length, sizeAfterWrite };
  });
}

/** Where an append landed: the file (inode) and its size before and after (exact while the writer holds the file's lock). */
export interface AppendedRange {
  ino: number;
  before: number;
  after: number;
  /** The file's size right after the write: more than `after` when another writer appended at the same time. */
  sizeAfterWrite: number;
}

/** True when the file is not empty and its last byte is not a newline (a crash tore its last line). */
function endsTorn(fd: number, size: number): boolean {
  if (size === 0) return false;
  const last = Buffer.alloc(1);
  readSync(fd, last, 0, 1, size - 1);
  return last[0] !== 0x0a;
}

export interface JsonLinesResult<T> {
  values: T[];
  /** 1-based line numbers that were unreadable (a torn last line after a crash, or a hand edit). */
  skippedLines: number[];
}

/** Reads a JSONL file, validating each line; unreadable lines are skipped and reported, never fatal. */
export async function readJsonLines<S extends z.ZodType>(filePath: string, schema: S): Promise<JsonLinesResult<z.infer<S>>> {
  const text = await readFile(filePath, "utf8");
  return parseJsonLines(text, schema);
}

export function parseJsonLines<S extends z.ZodType>(text: string, schema: S): JsonLinesResult<z.infer<S>> {
  const values: z.infer<S>[] = [];
  const skippedLines: number[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    const parsed = schema.safeParse(parseJson(line));
    if (parsed.success) values.push(parsed.data);
    else skippedLines.push(index + 1);
  });
  return { values, skippedLines };
}

/** JSON.parse into a value or `undefined`; never throws. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
