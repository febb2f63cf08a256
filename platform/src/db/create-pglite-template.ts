/**
 * Build step (scripts/lib/build.ts runs the bundled form): creates the embedded database template
 * in the directory given as the only argument — initdb, every migration, nothing else (no
 * signing keys, no rows) — so each new PGlite data directory starts as a copy of it.
 */
import { migrationProvider } from "./migrations";
import { openDatabase } from "./open-database";
import { stampPgliteTemplate } from "./pglite-template";

async function main(): Promise<number> {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write("usage: create-pglite-template <directory>\n");
    return 2;
  }
  // Opening migrates it.
  const database = await openDatabase({ pgliteDataDir: dir });
  await database.close();
  await stampPgliteTemplate(dir, Object.keys(await migrationProvider.getMigrations()));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`creating the PGlite template failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
