import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import type { BackupFileLine } from "@workforce/protocol/backup";
import { LOCK_FILE } from "../../db/pglite-lock";
import { CliError, type CliCommand, type CliContext } from "../../cli/cli-command";
import type { CheckedArchive } from "./archive-check";
import { checkArchive } from "./archive-check";
import { backupSettings, parse, SERVICE_HELP, type BackupSettings } from "./backup-settings";
import { assertEmptyPostgres, psqlRestore } from "./postgres-tools";
import { createProgress, type Progress } from "./progress";
import { gatewayBackupClient, platformBackupClient } from "./service-clients";
import { TenantRows } from "./tenant-rows";

const HELP = `Usage: npm run workforce -- restore <archive>

Restores a backup made by \`workforce backup\`, after checking it as \`backup verify\` does.
Nothing is ever overwritten:
  a full backup     goes into an empty installation: the gateway running on an empty
                    TENANT_DATA_DIR, and the platform stopped with PGLITE_DATA_DIR not yet
                    created (or, on Postgres, a database without accounts or organisations).
                    Then start the platform with the same WORKFORCE_SECRET_KEY (or key file).
  a tenant backup   (backup --tenant) goes into a running installation that does not have
                    that organisation; its people sign in again.

${SERVICE_HELP}`;

/** The archive's files of one tenant as the gateway's restore route takes them. */
function tenantLines(archive: CheckedArchive, tenantId: string): string[] {
  const prefix = `tenants/${tenantId}/`;
  return archive.manifest.entries
    .filter((entry) => entry.path.startsWith(prefix))
    .map((entry) => {
      const content = archive.files.get(entry.path)!;
      const line: BackupFileLine = { type: "file", tenantId, path: entry.path.slice(prefix.length), bytes: entry.bytes, sha256: entry.sha256, data: content.toString("base64") };
      return JSON.stringify(line);
    });
}

async function restoreFiles(settings: BackupSettings, archive: CheckedArchive, progress: Progress): Promise<void> {
  const gateway = gatewayBackupClient(settings.endpoints);
  let files = 0;
  let bytes = 0;
  for (const tenantId of archive.manifest.tenants) {
    const restored = await gateway.restore(tenantId, tenantLines(archive, tenantId));
    files += restored.files;
    bytes += restored.bytes;
    progress.update("files", { files, bytes });
  }
  progress.done("files restored", { tenants: archive.manifest.tenants.length, files, bytes });
}

async function assertEmptyDirectory(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  const entries = await readdir(dir);
  if (entries.length > 0) {
    throw new CliError(`the target installation is not empty: the embedded database ${dir} exists; a full restore goes into an empty installation only (stop the platform and point PGLITE_DATA_DIR at a new directory)`);
  }
}

async function restoreDatabase(settings: BackupSettings, archive: CheckedArchive, context: CliContext): Promise<void> {
  const dump = archive.files.get(archive.manifest.database.path)!;
  if (archive.manifest.database.kind === "pg_dump") {
    if (!settings.config.databaseUrl || !settings.postgresUrl) throw new CliError("this backup is of a Postgres installation: set DATABASE_URL (and DATABASE_MIGRATION_URL or --database-url) to the target database");
    await psqlRestore(settings.postgresUrl, dump, context.env);
    return;
  }
  if (settings.config.databaseUrl) throw new CliError("this backup is of an embedded (PGlite) installation: unset DATABASE_URL and set PGLITE_DATA_DIR to a new directory");
  const { PGlite } = await import("@electric-sql/pglite");
  // Owner-only, as the platform creates it: the database holds password hashes and encrypted keys.
  await mkdir(settings.config.pgliteDataDir, { recursive: true, mode: 0o700 });
  const pglite = await PGlite.create(settings.config.pgliteDataDir, { loadDataDir: new Blob([dump]) });
  await pglite.close();
  // The copy was taken from a running platform: its lock file names that process, not this installation.
  await rm(path.join(settings.config.pgliteDataDir, LOCK_FILE), { force: true });
}

async function restoreFull(settings: BackupSettings, archive: CheckedArchive, progress: Progress, context: CliContext): Promise<void> {
  // Both sides are checked before either is written.
  const present = await gatewayBackupClient(settings.endpoints).tenants();
  if (present.length > 0) {
    throw new CliError(`the target installation is not empty: the gateway's TENANT_DATA_DIR holds ${present.length} organisation(s); a full restore goes into an empty installation only`);
  }
  if (archive.manifest.database.kind === "pg_dump" && settings.postgresUrl) await assertEmptyPostgres(settings.postgresUrl);
  if (archive.manifest.database.kind === "pglite-datadir" && !settings.config.databaseUrl) await assertEmptyDirectory(settings.config.pgliteDataDir);
  await restoreDatabase(settings, archive, context);
  progress.done("database restored", { kind: archive.manifest.database.kind });
  await restoreFiles(settings, archive, progress);
}

async function restoreTenant(settings: BackupSettings, archive: CheckedArchive, tenantId: string, progress: Progress): Promise<void> {
  if ((await gatewayBackupClient(settings.endpoints).tenants()).includes(tenantId)) {
    throw new CliError(`organisation ${tenantId} already has files on the gateway; a restore never overwrites: erase it first, or restore into another installation`);
  }
  const rows = TenantRows.parse(JSON.parse(archive.files.get(archive.manifest.database.path)!.toString("utf8")));
  await platformBackupClient(settings.endpoints).restoreTenantRows(rows);
  progress.done("database rows restored", { tables: Object.keys(rows.tables).length });
  await restoreFiles(settings, archive, progress);
}

export const restoreCommand: CliCommand = {
  name: "restore",
  summary: "restore a backup into an empty installation, or one organisation into a running one",
  help: HELP,
  async run(args, context) {
    const parsed = parse(args, {}, HELP);
    if (parsed.values.help) {
      context.out(HELP);
      return 0;
    }
    const [file, ...rest] = parsed.positionals;
    if (!file || rest.length > 0) throw new CliError(`restore needs one archive\n\n${HELP}`);
    const content = await readFile(file).catch((error: unknown) => {
      throw new CliError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    });
    const { archive, problems } = checkArchive(content);
    if (!archive || problems.length > 0) throw new CliError(`${file} failed verification, nothing was restored: ${problems.join("; ")}`);
    const settings = backupSettings(parsed.values, context);
    const progress = createProgress(context, context.write ?? (() => undefined));
    const scope = archive.manifest.scope;
    if (scope.kind === "tenant") await restoreTenant(settings, archive, scope.tenantId, progress);
    else await restoreFull(settings, archive, progress, context);
    progress.done("restored", { file, scope: scope.kind, tenants: archive.manifest.tenants.length });
    return 0;
  },
};
