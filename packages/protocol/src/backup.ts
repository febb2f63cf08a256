import { z } from "zod";
import { ErrorDetail } from "./errors";

/**
 * The gateway's side of `workforce backup` / `workforce restore` (decision 020): a tenant's files
 * travel as JSON lines, one file a line, each with its sha256, so the receiver can check every
 * file end to end. Paths are relative to the tenant's root, with `/` separators.
 */

/** Where the gateway streams a consistent cut of tenants' files (GET), and lists the tenants it holds. */
export const BACKUP_FILES_PATH = "/backup/files";
export const BACKUP_TENANTS_PATH = "/backup/tenants";
/** Where one tenant's files are restored (PUT, `:tenantId` filled in); refused with 409 tenant_exists when it has files. */
export const backupRestorePath = (tenantId: string) => `/backup/tenants/${encodeURIComponent(tenantId)}/files`;

export const BackupFileLine = z.object({
  type: z.literal("file"),
  tenantId: z.string().min(1),
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** The content, base64. */
  data: z.string(),
});
export type BackupFileLine = z.infer<typeof BackupFileLine>;

export const BackupStreamLine = z.discriminatedUnion("type", [
  z.object({ type: z.literal("backup-start"), tenants: z.array(z.string()), takenAt: z.string() }),
  BackupFileLine,
  z.object({ type: z.literal("backup-end"), files: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }),
  z.object({ type: z.literal("backup-error"), error: ErrorDetail }),
]);
export type BackupStreamLine = z.infer<typeof BackupStreamLine>;

export const BackupTenantList = z.object({ tenants: z.array(z.string()) });
export type BackupTenantList = z.infer<typeof BackupTenantList>;

export const RestoredFiles = z.object({ tenantId: z.string(), files: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() });
export type RestoredFiles = z.infer<typeof RestoredFiles>;
