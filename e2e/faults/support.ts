/**
 * Helpers for the fault-injection suites: a seeded random source, and a checker that walks a
 * TENANT_DATA_DIR and validates every registry, journal and transcript against the protocol
 * schemas, reporting torn lines instead of failing on them (the tests decide what is allowed).
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { SessionSummary, TranscriptHeader, TranscriptLine, type TranscriptEntry } from "@workforce/protocol";
import { z } from "zod";

/** mulberry32: small, fast, good enough to pick kill moments reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

export const RegistryFile = z.record(z.string(), SessionSummary);
export const JournalLine = z.union([z.object({ op: z.literal("put"), session: SessionSummary }), z.object({ op: z.literal("delete"), key: z.string() })]);
export type JournalLine = z.infer<typeof JournalLine>;

export interface LineProblem {
  file: string;
  line: number;
  /** "torn": not JSON at all (a partial write); "invalid": JSON that breaks the schema. */
  kind: "torn" | "invalid";
  last: boolean;
  text: string;
}

export interface TranscriptFile {
  file: string;
  header: TranscriptHeader;
  entries: TranscriptEntry[];
}

export interface DataDirReport {
  registries: { file: string; sessions: Record<string, SessionSummary> }[];
  /** Each registry journal's valid lines, in order (applied over sessions.json they give the registry). */
  journals: { file: string; lines: JournalLine[] }[];
  transcripts: TranscriptFile[];
  /** Registry files that do not parse at all. */
  badRegistries: string[];
  /** Transcripts whose header line is unreadable. */
  badHeaders: string[];
  lineProblems: LineProblem[];
  /** Leftovers of atomic writes (`.name.<random>.tmp`). */
  tempFiles: string[];
  /** Lock files (`*.lock`): after a clean shutdown none may be left. */
  lockFiles: string[];
}

async function walk(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await walk(full)));
    else found.push(full);
  }
  return found;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}

function checkLines(file: string, text: string, schema: z.ZodType, startAt: number, problems: LineProblem[]): unknown[] {
  const lines = text.split("\n");
  const values: unknown[] = [];
  for (let index = startAt; index < lines.length; index += 1) {
    const line = lines[index] ?? "";
    if (line.trim() === "") continue;
    const last = index === lines.length - 1;
    const json = parseJson(line);
    if (!json.ok) {
      problems.push({ file, line: index + 1, kind: "torn", last, text: line.slice(0, 120) });
      continue;
    }
    const parsed = schema.safeParse(json.value);
    if (parsed.success) values.push(parsed.data);
    else problems.push({ file, line: index + 1, kind: "invalid", last, text: line.slice(0, 120) });
  }
  return values;
}

/**
 * The messages of a transcript as the gateway reads them: session-meta lines (titles, fence
 * markers of a gateway taking a session over) and approval lines are not messages, and a line fenced lower than one
 * before it was written by a holder that had lost its lease, so it does not count (as in
 * gateway/src/sessions/transcript.ts; unfenced lines, written outside any run, always count).
 */
function conversation(lines: readonly TranscriptLine[]): TranscriptEntry[] {
  const entries: TranscriptEntry[] = [];
  let highest = 0;
  for (const line of lines) {
    if (line.fence !== undefined) {
      if (line.fence < highest) continue;
      highest = line.fence;
    }
    if (line.type !== "session-meta" && line.type !== "approval-request" && line.type !== "approval-decision") entries.push(line);
  }
  return entries;
}

/** Reads every session file under `dataDir`. */
export async function inspectDataDir(dataDir: string): Promise<DataDirReport> {
  const report: DataDirReport = { registries: [], journals: [], transcripts: [], badRegistries: [], badHeaders: [], lineProblems: [], tempFiles: [], lockFiles: [] };
  for (const file of await walk(dataDir)) {
    const name = path.basename(file);
    if (name.endsWith(".tmp")) {
      report.tempFiles.push(file);
      continue;
    }
    if (name.endsWith(".lock")) {
      report.lockFiles.push(file);
      continue;
    }
    if (!file.includes(`${path.sep}sessions${path.sep}`)) continue;
    const text = await readFile(file, "utf8");
    if (name === "sessions.json") {
      const json = parseJson(text);
      const parsed = json.ok ? RegistryFile.safeParse(json.value) : undefined;
      if (parsed?.success) report.registries.push({ file, sessions: parsed.data });
      else report.badRegistries.push(file);
    } else if (name === "sessions.journal.jsonl") {
      report.journals.push({ file, lines: checkLines(file, text, JournalLine, 0, report.lineProblems) as JournalLine[] });
    } else if (name.endsWith(".jsonl")) {
      const firstLine = text.split("\n")[0] ?? "";
      const json = parseJson(firstLine);
      const header = json.ok ? TranscriptHeader.safeParse(json.value) : undefined;
      if (!header?.success) {
        report.badHeaders.push(file);
        continue;
      }
      const lines = checkLines(file, text, TranscriptLine, 1, report.lineProblems) as TranscriptLine[];
      report.transcripts.push({ file, header: header.data, entries: conversation(lines) });
    }
  }
  return report;
}

export function textOfEntry(entry: TranscriptEntry): string {
  if (entry.type !== "user" && entry.type !== "assistant") return "";
  return entry.content.map((block) => (block.type === "text" ? block.text : "")).join("");
}
