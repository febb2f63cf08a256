import { constants } from "node:fs";
import { open, readFile } from "node:fs/promises";
import type { z } from "zod";

/**
 * Appends JSON values as lines and fsyncs before returning. If a crash left the file without a
 * trailing newline (a torn last line), a newline is written first so the new lines stay intact.
 * With `create: false` a missing file is an error (ENOENT) instead of being created headerless.
 */
export async function appendJsonLines(filePath: string, values: readonly unknown[], options: { create?: boolean } = {}): Promise<void> {
  if (values.length === 0) return;
  const flags = options.create === false ? constants.O_RDWR | constants.O_APPEND : "a+";
  const handle = await open(filePath, flags, 0o600);
  try {
    const { size } = await handle.stat();
    let prefix = "";
    if (size > 0) {
      const last = Buffer.alloc(1);
      await handle.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) prefix = "\n";
    }
    const text = prefix + values.map((value) => JSON.stringify(value)).join("\n") + "\n";
    await handle.write(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
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

/** Reads the lines of a JSONL file from byte `offset` on (the part appended since a known size). */
export async function readJsonLinesFrom<S extends z.ZodType>(filePath: string, offset: number, schema: S): Promise<JsonLinesResult<z.infer<S>>> {
  const handle = await open(filePath, "r");
  try {
    const { size } = await handle.stat();
    const length = Math.max(0, size - offset);
    const buffer = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const { bytesRead } = await handle.read(buffer, read, length - read, offset + read);
      if (bytesRead === 0) break;
      read += bytesRead;
    }
    return parseJsonLines(buffer.subarray(0, read).toString("utf8"), schema);
  } finally {
    await handle.close();
  }
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
