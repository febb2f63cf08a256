import { existsSync, readFileSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { z } from "zod";

/** Written into a template directory by `createPgliteTemplate`; never copied into a data directory. */
const STAMP_FILE = "workforce-template.json";

const TemplateStamp = z.object({ pgliteVersion: z.string(), migrations: z.array(z.string()) });

/** The installed PGlite's version: a template made by another version may not open. */
export function installedPgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  let dir = path.dirname(entry);
  while (!existsSync(path.join(dir, "package.json"))) dir = path.dirname(dir);
  const manifest = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as { version?: unknown };
  return String(manifest.version);
}

/** Records what a freshly created and migrated template directory holds. */
export async function stampPgliteTemplate(templateDir: string, migrations: string[]): Promise<void> {
  const stamp: z.infer<typeof TemplateStamp> = { pgliteVersion: installedPgliteVersion(), migrations };
  await writeFile(path.join(templateDir, STAMP_FILE), JSON.stringify(stamp) + "\n");
}

/**
 * Makes a new PGlite data directory a copy of the template — a database already initdb'd and
 * migrated at build time — so the first start skips initdb (seconds of WebAssembly work and
 * ~800 MB of memory). Returns false, and leaves the directory alone, when it already holds a
 * database or no usable template exists (the caller then lets PGlite run initdb as before).
 * PG_VERSION is copied last: a copy cut short is redone on the next start.
 */
export async function seedFromTemplate(dataDir: string, templateDir: string | undefined, migrations: string[]): Promise<boolean> {
  if (!templateDir || existsSync(path.join(dataDir, "PG_VERSION"))) return false;
  const stampPath = path.join(templateDir, STAMP_FILE);
  const versionPath = path.join(templateDir, "PG_VERSION");
  let stamp;
  try {
    stamp = TemplateStamp.parse(JSON.parse(await readFile(stampPath, "utf8")));
  } catch {
    return false;
  }
  // Pending migrations are applied after opening, so the template's must be the first of ours, in
  // order: one we no longer know, or a later one applied before an earlier one, makes it unusable.
  const ordered = [...migrations].sort();
  const prefix = stamp.migrations.every((name, index) => ordered[index] === name);
  if (stamp.pgliteVersion !== installedPgliteVersion() || !prefix) return false;
  if (!existsSync(versionPath)) return false;
  await copyTree(templateDir, dataDir, new Set([stampPath, versionPath]));
  await copyFile(versionPath, path.join(dataDir, "PG_VERSION"));
  return true;
}

/**
 * Copies the regular files and directories under `from` into `to`, except `skip`. ~1,000 small
 * files: `fs.cp` walks and copies them one at a time (~0.5-0.7 s, on the cold-start path);
 * sixteen `copyFile`s (copy_file_range) at a time take ~0.25 s.
 */
async function copyTree(from: string, to: string, skip: ReadonlySet<string>): Promise<void> {
  const entries = await readdir(from, { withFileTypes: true, recursive: true });
  await mkdir(to, { recursive: true });
  const target = (source: string) => path.join(to, path.relative(from, source));
  for (const entry of entries) if (entry.isDirectory()) await mkdir(target(path.join(entry.parentPath, entry.name)), { recursive: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name)).filter((file) => !skip.has(file));
  let next = 0;
  const worker = async () => {
    while (next < files.length) {
      const file = files[next++]!;
      await copyFile(file, target(file));
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}
