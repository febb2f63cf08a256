import { readFile, rename, rm } from "node:fs/promises";
import path from "node:path";
import { CliError, type CliCommand, type CliContext } from "../../cli/cli-command";
import type { BackupManifest} from "./backup-manifest";
import { DATABASE_PATHS, MANIFEST_NAME, sha256, tenantFilePath } from "./backup-manifest";
import { backupSettings, parse, SERVICE_HELP, type BackupSettings } from "./backup-settings";
import { checkArchive } from "./archive-check";
import { pgDump } from "./postgres-tools";
import { createProgress, type Progress } from "./progress";
import { gatewayBackupClient, platformBackupClient } from "./service-clients";
import { TarGzWriter } from "./tar-archive";

const HELP = `Usage: npm run workforce -- backup [--tenant <id>] [--output <file>]
       npm run workforce -- backup verify <file>

backup          an online backup of the running installation into one .tar.gz: the database
                (the embedded PGlite's data directory through the platform, or pg_dump of
                Postgres) and every organisation's files under TENANT_DATA_DIR, read by the
                gateway at a consistent cut while runs go on (no half line, no session without
                its transcript); a manifest lists the sha256 of every entry.
  --tenant <id>   one organisation: its database rows and its files, for restore --tenant
  --output <file> where to write (default ./workforce-backup-<full|tenant>-<time>.tar.gz)
backup verify   checks an archive: every checksum, and that every file parses

Progress is drawn on a terminal and written as JSON lines otherwise (cron, Kubernetes).
The master key (WORKFORCE_SECRET_KEY / its file) is not in the archive: keep it apart.

${SERVICE_HELP}`;

async function databaseEntry(settings: BackupSettings, tenantId: string | undefined, context: CliContext): Promise<{ kind: BackupManifest["database"]["kind"]; content: Buffer }> {
  const platform = platformBackupClient(settings.endpoints);
  if (tenantId) return { kind: "tenant-rows", content: Buffer.from(JSON.stringify(await platform.tenantRows(tenantId))) };
  if (settings.config.databaseUrl) {
    if (!settings.postgresUrl) throw new CliError("no database login for pg_dump: set DATABASE_MIGRATION_URL or --database-url");
    return { kind: "pg_dump", content: await pgDump(settings.postgresUrl, context.env) };
  }
  return { kind: "pglite-datadir", content: await platform.databaseDir() };
}

/** Writes the archive to `<output>.partial` and renames it when complete, so a failed backup never looks like a finished one. */
async function writeBackup(settings: BackupSettings, tenantId: string | undefined, output: string, progress: Progress, context: CliContext): Promise<BackupManifest> {
  const partial = `${output}.partial`;
  const writer = new TarGzWriter(partial);
  const entries: BackupManifest["entries"] = [];
  const add = async (name: string, content: Buffer) => {
    await writer.add(name, content);
    entries.push({ path: name, bytes: content.length, sha256: sha256(content) });
  };
  try {
    // The database first: its usage cursor then never points past the usage journal copied after it.
    const database = await databaseEntry(settings, tenantId, context);
    await add(DATABASE_PATHS[database.kind], database.content);
    progress.done("database", { kind: database.kind, bytes: database.content.length });
    let tenants: string[] = [];
    let files = 0;
    let bytes = 0;
    for await (const line of gatewayBackupClient(settings.endpoints).files(tenantId)) {
      if (line.type === "backup-start") tenants = line.tenants;
      else if (line.type === "backup-error") throw new CliError(`the gateway could not read the files: ${line.error.message} (${line.error.code})`);
      else if (line.type === "file") {
        const content = Buffer.from(line.data, "base64");
        if (sha256(content) !== line.sha256) throw new CliError(`${line.tenantId}/${line.path} arrived damaged (checksum mismatch); try again`);
        await add(tenantFilePath(line.tenantId, line.path), content);
        files += 1;
        bytes += content.length;
        progress.update("files", { files, bytes });
      } else if (line.files !== files) throw new CliError(`the gateway announced ${line.files} files but sent ${files}`);
      else progress.done("files", { tenants: tenants.length, files, bytes });
    }
    const manifest: BackupManifest = {
      format: "workforce-backup",
      version: 1,
      createdAt: context.now().toISOString(),
      scope: tenantId ? { kind: "tenant", tenantId } : { kind: "full" },
      database: { kind: database.kind, path: DATABASE_PATHS[database.kind] },
      tenants,
      entries,
    };
    await writer.add(MANIFEST_NAME, Buffer.from(JSON.stringify(manifest, null, 2)));
    await writer.close();
    await rename(partial, output);
    return manifest;
  } catch (error) {
    await writer.close().catch(() => undefined);
    await rm(partial, { force: true });
    throw error;
  }
}

async function verify(file: string | undefined, context: CliContext): Promise<number> {
  if (!file) throw new CliError(`backup verify needs the archive to check\n\n${HELP}`);
  const content = await readFile(file).catch((error: unknown) => {
    throw new CliError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  });
  const { archive, problems } = checkArchive(content);
  const progress = createProgress(context, context.write ?? (() => undefined));
  if (problems.length > 0) {
    for (const problem of problems) context.err(context.isTty ? `✗ ${problem}` : JSON.stringify({ event: "problem", message: problem }));
    throw new CliError(`${file} failed verification (${problems.length} problem${problems.length === 1 ? "" : "s"})`);
  }
  progress.done("verified", { file, scope: archive!.manifest.scope.kind, entries: archive!.manifest.entries.length, tenants: archive!.manifest.tenants.length });
  return 0;
}

export const backupCommand: CliCommand = {
  name: "backup",
  summary: "back up the running installation (or one organisation); backup verify <file> checks an archive",
  help: HELP,
  async run(args, context) {
    const parsed = parse(args, { tenant: { type: "string" }, output: { type: "string", short: "o" } }, HELP);
    if (parsed.values.help) {
      context.out(HELP);
      return 0;
    }
    const [action, ...rest] = parsed.positionals;
    if (action === "verify") {
      if (rest.length > 1) throw new CliError(`backup verify checks one archive\n\n${HELP}`);
      return verify(rest[0], context);
    }
    if (action !== undefined) throw new CliError(`unknown subcommand "backup ${action}"\n\n${HELP}`);
    const tenantId = typeof parsed.values.tenant === "string" ? parsed.values.tenant : undefined;
    const settings = backupSettings(parsed.values, context);
    const stamp = context.now().toISOString().replace(/[:.]/g, "-");
    const output = path.resolve(typeof parsed.values.output === "string" ? parsed.values.output : `workforce-backup-${tenantId ? "tenant" : "full"}-${stamp}.tar.gz`);
    const progress = createProgress(context, context.write ?? (() => undefined));
    const manifest = await writeBackup(settings, tenantId, output, progress, context);
    progress.done("backup written", { file: output, entries: manifest.entries.length + 1, tenants: manifest.tenants.length });
    return 0;
  },
};
