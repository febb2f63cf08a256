import { createHash } from "node:crypto";
import { rm } from "node:fs/promises";
import path from "node:path";
import { AppError } from "@workforce/protocol";
import { BackupFileLine, type RestoredFiles } from "@workforce/protocol/backup";
import { assertAbsoluteDataDir, checkRelativePath, ensureContained, ensureContainedIn, ensureTenantRoot } from "@workforce/protocol/tenant-path";
import { writeFileAtomic } from "../fs/atomic-write";
import { parseJson } from "../fs/jsonl-file";
import { makeDirectory } from "../fs/storage-error";
import type { Logger } from "../logger";
import { tenantHasFiles } from "./tenant-snapshot";

export interface RestoreDeps {
  dataDir: string;
  logger: Logger;
  /** Drops what the gateway caches about the tenant (roots, registries, config, policy, disk figure), before and after. */
  forgetTenant: (tenantId: string) => Promise<void>;
}

/**
 * Writes one tenant's files from a backup into an empty tenant directory. Refuses (409
 * tenant_exists) when the tenant already has files, so nothing is ever overwritten; checks each
 * file's sha256 and path before writing it, and on any failure removes what it wrote, leaving the
 * tenant as absent as before.
 */
export function createTenantRestore(deps: RestoreDeps): RestoreTenant {
  /** Tenants being restored right now: a second restore of one tenant at once is refused rather than interleaved. */
  const restoring = new Set<string>();
  return (tenantId, lines) => restoreInto(deps, restoring, tenantId, lines);
}

export type RestoreTenant = (tenantId: string, lines: AsyncIterable<string>) => Promise<RestoredFiles>;

async function restoreInto(deps: RestoreDeps, restoring: Set<string>, tenantId: string, lines: AsyncIterable<string>): Promise<RestoredFiles> {
  if (restoring.has(tenantId)) throw new AppError("conflict", `tenant ${tenantId} is being restored already`);
  if (await tenantHasFiles(deps.dataDir, tenantId)) {
    throw new AppError("tenant_exists", `tenant ${tenantId} already has files on this gateway; a restore never overwrites: erase the tenant first, or restore into another installation`);
  }
  restoring.add(tenantId);
  await deps.forgetTenant(tenantId);
  const paths = await ensureTenantRoot(deps.dataDir, tenantId);
  const realRoot = await ensureContained(assertAbsoluteDataDir(deps.dataDir), paths.root);
  let files = 0;
  let bytes = 0;
  try {
    let lineNumber = 0;
    for await (const text of lines) {
      lineNumber += 1;
      if (text.trim() === "") continue;
      const parsed = BackupFileLine.safeParse(parseJson(text));
      if (!parsed.success) throw new AppError("backup_invalid", `line ${lineNumber} is not a file of a backup`);
      const file = parsed.data;
      if (file.tenantId !== tenantId) throw new AppError("backup_invalid", `line ${lineNumber} belongs to tenant ${file.tenantId}, not ${tenantId}`);
      const content = Buffer.from(file.data, "base64");
      if (content.length !== file.bytes || createHash("sha256").update(content).digest("hex") !== file.sha256) {
        throw new AppError("backup_invalid", `${file.path}: its content does not match its checksum`);
      }
      const target = path.join(paths.root, ...checkRelativePath(file.path).split("/"));
      await makeDirectory(path.dirname(target));
      await ensureContainedIn(realRoot, target);
      await writeFileAtomic(target, content, 0o600);
      files += 1;
      bytes += content.length;
    }
  } catch (error) {
    await rm(paths.root, { recursive: true, force: true });
    throw error;
  } finally {
    restoring.delete(tenantId);
    await deps.forgetTenant(tenantId);
  }
  deps.logger.info(`restored tenant ${tenantId} from a backup (${files} files, ${bytes} bytes)`);
  return { tenantId, files, bytes };
}
