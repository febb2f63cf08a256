import { createHash } from "node:crypto";
import { lstat, readdir, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import { ApiErrorBody, ERROR_CODES } from "@workforce/protocol";
import fc from "fast-check";

/**
 * fast-check settings for the default test run. The seed is random unless FAST_CHECK_SEED is set;
 * a failure prints `{ seed, path }`, and `FAST_CHECK_SEED=<seed> FAST_CHECK_PATH=<path>` replays it.
 */
export function fuzzParameters(numRuns: number): fc.Parameters<unknown> {
  const seed = process.env.FAST_CHECK_SEED;
  const replayPath = process.env.FAST_CHECK_PATH;
  return {
    numRuns: Number(process.env.FAST_CHECK_RUNS) || numRuns,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(replayPath ? { path: replayPath } : {}),
    endOnFailure: true,
  };
}

/** Pieces an attacker tries in paths, ids and keys. */
export const HOSTILE_PIECES = [
  "..",
  ".",
  "",
  "/",
  "//",
  "../..",
  "/etc/passwd",
  "C:\\Windows",
  "..\\..",
  "%2e%2e",
  "%2E%2E%2F",
  "%252e%252e%252f",
  "..%2f..%2f",
  "..%252f",
  "%00",
  "\u0000",
  "a\u0000b",
  "\n",
  "\u2024\u2024", // one dot leader, twice
  "\uff0e\uff0e", // fullwidth full stops
  "\u2025", // two dot leader
  "\u2215", // division slash
  "\uff0f", // fullwidth solidus
  "\u0130", // dotted capital I (lowercases to two code points)
  "e\u0301", // combining accent
  "\ud800", // lone surrogate
  "ADA",
  " ada ",
  "ada\t",
  "ada",
  "con",
  "sessions.json",
  ".lock",
  "a".repeat(300),
  "x".repeat(5_000),
];

/** A string mixing hostile pieces, arbitrary unicode and plain words. */
export function hostileString(maxLength = 60): fc.Arbitrary<string> {
  const piece = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
    { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength }) },
    { weight: 2, arbitrary: fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/) },
  );
  return fc.oneof(piece, fc.array(piece, { minLength: 1, maxLength: 5 }).map((pieces) => pieces.join("/")));
}

/** A path segment as a client might put it in a URL: raw, encoded once or encoded twice. */
export function urlSegment(value: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(value, fc.constantFrom("raw", "encoded", "double")).map(([text, how]) => {
    const once = (input: string) => {
      try {
        return encodeURIComponent(input);
      } catch {
        return input; // a lone surrogate cannot be encoded; send it raw
      }
    };
    if (how === "encoded") return once(text);
    if (how === "double") return once(once(text));
    return text;
  });
}

/** One entry per file, directory and symlink under `dir` (not followed), keyed by relative path. */
export async function snapshotTree(dir: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const walk = async (current: string): Promise<void> => {
    for (const name of await readdir(current).catch(() => [] as string[])) {
      const full = path.join(current, name);
      const info = await lstat(full).catch(() => undefined);
      if (!info) continue;
      const relative = path.relative(dir, full);
      if (info.isSymbolicLink()) entries.set(relative, `link:${await readlink(full)}:${info.mtimeMs}`);
      else if (info.isDirectory()) {
        entries.set(relative, `dir:${info.mode}`);
        await walk(full);
      } else {
        const hash = createHash("sha256")
          .update(await readFile(full).catch(() => Buffer.alloc(0)))
          .digest("hex");
        entries.set(relative, `file:${info.size}:${info.mtimeMs}:${info.mode}:${hash}`);
      }
    }
  };
  await walk(dir);
  return entries;
}

/** Paths added, removed or changed between two snapshots. */
export function changedPaths(before: Map<string, string>, after: Map<string, string>): string[] {
  const changed = new Set<string>();
  for (const [key, value] of before) if (after.get(key) !== value) changed.add(key);
  for (const key of after.keys()) if (!before.has(key)) changed.add(key);
  return [...changed].sort();
}

/**
 * Changed paths that are not inside one of `tenants`' directories, nor the gateway's per-process
 * bookkeeping (lock owners, the journal of runs in flight: ids only, never content).
 */
export function changesOutside(changed: readonly string[], tenants: Iterable<string>): string[] {
  const allowed = [...tenants];
  return changed.filter(
    (relative) => !relative.startsWith(".workforce-locks") && !relative.startsWith(".workforce-runs") && !allowed.some((tenant) => relative === tenant || relative.startsWith(`${tenant}${path.sep}`)),
  );
}

/**
 * The error-shape property: no 5xx, and every 4xx is JSON `{ error: { code, message } }` with a
 * code from the shared list. Returns the body text so callers can look for leaked secrets.
 */
export async function expectWellFormed(response: Response, context: string): Promise<string> {
  const text = await response.text();
  if (response.status >= 500) throw new Error(`${context}: ${response.status} ${text.slice(0, 500)}`);
  if (response.status >= 400) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`${context}: ${response.status} with a non-JSON body: ${text.slice(0, 200)}`);
    }
    const parsed = ApiErrorBody.safeParse(body);
    if (!parsed.success) throw new Error(`${context}: ${response.status} with a malformed error body: ${text.slice(0, 200)}`);
    if (!(ERROR_CODES as readonly string[]).includes(parsed.data.error.code)) throw new Error(`${context}: unknown error code ${parsed.data.error.code}`);
  }
  return text;
}
