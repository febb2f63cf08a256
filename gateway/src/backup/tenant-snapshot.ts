import { createHash } from "node:crypto";
import { lstat, readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { SessionSummary } from "@workforce/protocol";
import type { BackupFileLine } from "@workforce/protocol/backup";
import { assertAbsoluteDataDir, assertTenantId, ensureContained, tenantPaths, type TenantPaths } from "@workforce/protocol/tenant-path";
import { isNotFound } from "../fs/errno";
import type { SessionStore } from "../sessions/session-store";
import { summarizeTranscript } from "../sessions/session-summary";
import { parseTranscript } from "../sessions/transcript";

/** Files that are state of a running gateway, not data: locks, leftovers of atomic writes and lock take-overs. */
const NOT_DATA = [/\.lock$/, /^\.lock$/, /\.lock\.stale-[0-9a-f]+$/, /^\..+\.[0-9a-f]+\.tmp$/];
/** The registry is written into the snapshot from the transcripts captured (see snapshotTenant), so its files on disk are left out. */
const REGISTRY_FILES = new Set(["sessions.json", "sessions.journal.jsonl"]);

export interface SnapshotDeps {
  dataDir: string;
  sessions: Pick<SessionStore, "list">;
}

/** A file of the snapshot, relative to the tenant's root. */
export type SnapshotFile = Omit<BackupFileLine, "type" | "tenantId" | "data"> & { content: Buffer };

/** The bytes of a JSONL file up to its last complete line: an append in flight is left out whole. */
export function completeLines(content: Buffer): Buffer {
  const end = content.lastIndexOf(0x0a);
  return content.subarray(0, end + 1);
}

function fileOf(relativePath: string, content: Buffer): SnapshotFile {
  return { path: relativePath, bytes: content.length, sha256: createHash("sha256").update(content).digest("hex"), content };
}

/** Tenants with a directory under the data dir (names that are valid tenant ids). */
export async function listTenants(dataDir: string): Promise<string[]> {
  const entries = await readdir(assertAbsoluteDataDir(dataDir), { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .filter((name) => {
      try {
        assertTenantId(name);
        return true;
      } catch {
        return false;
      }
    })
    .sort();
}

/** True when the tenant's directory holds at least one file (an empty directory a request created does not count). */
export async function tenantHasFiles(dataDir: string, tenantId: string): Promise<boolean> {
  const root = tenantPaths(dataDir, tenantId).root;
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
  return entries.some((entry) => entry.isFile());
}

/** Every regular file under the tenant's root (symbolic links are not followed and not kept), relative, `/`-separated. */
async function walk(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if (isNotFound(error)) return [];
    throw error;
  }
  return entries
    .filter((entry) => entry.isFile() && !NOT_DATA.some((pattern) => pattern.test(entry.name)))
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

async function readIfPresent(filePath: string): Promise<Buffer | undefined> {
  try {
    if (!(await lstat(filePath)).isFile()) return undefined;
    return await readFile(filePath);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/**
 * One agent's sessions at a consistent cut: the registry is listed first, then each transcript
 * read up to its last complete line (appends are whole lines, fsynced, under O_APPEND), and the
 * registry written for the snapshot is summarised from exactly those lines. So every entry has its
 * transcript, no transcript ends in half a line, and counts match what was captured. A transcript
 * deleted meanwhile drops its entry; one created after the listing is kept as a file, and the
 * restored gateway summarises it back in as it does after a crash.
 */
async function snapshotAgentSessions(deps: SnapshotDeps, paths: TenantPaths, slug: string, add: (file: SnapshotFile) => void): Promise<Set<string>> {
  const agent = paths.agent(slug);
  const listed = await deps.sessions.list({ tenantId: paths.tenantId, agent: slug });
  const registry: Record<string, SessionSummary> = {};
  const captured = new Set<string>();
  for (const session of listed) {
    const transcriptPath = agent.transcript(session.sessionId);
    const content = await readIfPresent(transcriptPath);
    if (!content) continue;
    const lines = completeLines(content);
    const transcript = parseTranscript(lines.toString("utf8"));
    if (!transcript) continue;
    registry[session.key] = summarizeTranscript(transcript, session);
    captured.add(transcriptPath);
    add(fileOf(path.relative(paths.root, transcriptPath).split(path.sep).join("/"), lines));
  }
  add(fileOf(path.relative(paths.root, agent.registry).split(path.sep).join("/"), Buffer.from(JSON.stringify(registry, null, 2) + "\n")));
  return captured;
}

/**
 * A consistent copy of one tenant's files, handed to `add` one at a time: its sessions as above,
 * every other JSONL file (the usage journal) up to its last complete line, and the rest (config,
 * policy, workspace files, all written atomically) whole.
 */
export async function snapshotTenant(deps: SnapshotDeps, tenantId: string, add: (file: SnapshotFile) => void): Promise<void> {
  const paths = tenantPaths(deps.dataDir, tenantId);
  // A tenant root that is a symbolic link to elsewhere (another tenant's directory) is refused, as erasure refuses it.
  const real = await ensureContained(assertAbsoluteDataDir(deps.dataDir), paths.root);
  if (path.basename(real) !== path.basename(paths.root)) return;
  const captured = new Set<string>();
  let slugs: string[] = [];
  try {
    slugs = (await readdir(paths.agentsDir, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
  for (const slug of slugs) {
    for (const file of await snapshotAgentSessions(deps, paths, slug, add)) captured.add(file);
  }
  for (const relativePath of await walk(paths.root)) {
    const absolute = path.join(paths.root, ...relativePath.split("/"));
    const inSessions = path.basename(path.dirname(absolute)) === "sessions";
    if (captured.has(absolute) || (inSessions && (REGISTRY_FILES.has(path.basename(absolute)) || absolute.endsWith(".jsonl")))) continue;
    const content = await readIfPresent(absolute);
    if (!content) continue;
    add(fileOf(relativePath, absolute.endsWith(".jsonl") ? completeLines(content) : content));
  }
}
