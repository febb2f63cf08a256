import path from "node:path";
import { SessionSummary } from "@workforce/protocol";
import { z } from "zod";
import { BackupManifest, MANIFEST_NAME, sha256 } from "./backup-manifest";
import { readTarGz, type TarFile } from "./tar-archive";
import { TenantRows } from "./tenant-rows";

/** sessions.json as the gateway writes it: session key → summary. */
const SessionRegistryFile = z.record(z.string(), SessionSummary);

export interface CheckedArchive {
  manifest: BackupManifest;
  files: Map<string, Buffer>;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Why one file of the archive does not parse as what its name says, or undefined when it does. */
function fileProblem(name: string, content: Buffer, files: Map<string, Buffer>): string | undefined {
  const text = () => content.toString("utf8");
  if (name.endsWith(".jsonl")) {
    if (content.length > 0 && content[content.length - 1] !== 0x0a) return `${name} ends in half a line`;
    const bad = text().split("\n").findIndex((line) => line.trim() !== "" && !parsesAsJson(line));
    return bad >= 0 ? `${name}: line ${bad + 1} is not JSON` : undefined;
  }
  if (path.posix.basename(name) === "sessions.json") {
    const registry = SessionRegistryFile.safeParse(parsesAsJson(text()) ? JSON.parse(text()) : undefined);
    if (!registry.success) return `${name} is not a session registry`;
    const missing = Object.values(registry.data).find((session) => !files.has(`${path.posix.dirname(name)}/${session.sessionId}.jsonl`));
    return missing ? `${name} names session ${missing.sessionId}, whose transcript is not in the archive` : undefined;
  }

  if (name.endsWith(".tar.gz")) {
    try {
      return readTarGz(content).some((file) => path.posix.basename(file.name) === "PG_VERSION") ? undefined : `${name} is not a PGlite data directory`;
    } catch (error) {
      return `${name}: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  if (name.endsWith(".sql")) return /^--/.test(text()) ? undefined : `${name} is not a SQL script`;
  if (!name.endsWith(".json")) return undefined;
  if (!parsesAsJson(text())) return `${name} is not JSON`;
  if (name.endsWith("tenant-rows.json")) return TenantRows.safeParse(JSON.parse(text())).success ? undefined : `${name} is not a tenant's rows`;
  return undefined;
}

/**
 * Reads an archive and lists everything wrong with it: a missing or unreadable manifest, an
 * entry missing, extra or changed (sha256), and any file that does not parse (JSON, JSON lines
 * without a torn last line, a registry naming a transcript the archive lacks, the database dump).
 */
export function checkArchive(archive: Buffer): { archive?: CheckedArchive; problems: string[] } {
  let entries: TarFile[];
  try {
    entries = readTarGz(archive);
  } catch (error) {
    return { problems: [`the archive cannot be read: ${error instanceof Error ? error.message : String(error)}`] };
  }
  const files = new Map(entries.map((entry) => [entry.name, entry.content]));
  const manifestFile = files.get(MANIFEST_NAME);
  if (!manifestFile) return { problems: [`the archive has no ${MANIFEST_NAME}: it is not a Workforce backup, or it was cut short`] };
  const manifest = BackupManifest.safeParse((() => { try { return JSON.parse(manifestFile.toString("utf8")) as unknown; } catch { return undefined; } })());
  if (!manifest.success) return { problems: [`${MANIFEST_NAME} is not a Workforce backup manifest`] };
  files.delete(MANIFEST_NAME);
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const entry of manifest.data.entries) {
    listed.add(entry.path);
    const content = files.get(entry.path);
    if (!content) problems.push(`${entry.path} is listed in the manifest but missing`);
    else if (content.length !== entry.bytes || sha256(content) !== entry.sha256) problems.push(`${entry.path} does not match its checksum (changed or damaged)`);
    else {
      const problem = fileProblem(entry.path, content, files);
      if (problem) problems.push(problem);
    }
  }
  for (const name of files.keys()) if (!listed.has(name)) problems.push(`${name} is in the archive but not in its manifest`);
  return { archive: { manifest: manifest.data, files }, problems };
}
