import { createHash } from "node:crypto";
import { z } from "zod";

/** The last entry of every archive: what it holds and the sha256 of every other entry. */
export const MANIFEST_NAME = "manifest.json";

export const BackupManifest = z.object({
  format: z.literal("workforce-backup"),
  version: z.literal(1),
  createdAt: z.string(),
  /** "full": the whole installation (restore into an empty one); "tenant": one organisation (restore into a running one). */
  scope: z.discriminatedUnion("kind", [z.object({ kind: z.literal("full") }), z.object({ kind: z.literal("tenant"), tenantId: z.string() })]),
  /** How the database is in the archive: PGlite's data directory, a pg_dump script, or the tenant's rows as JSON. */
  database: z.object({ kind: z.enum(["pglite-datadir", "pg_dump", "tenant-rows"]), path: z.string() }),
  tenants: z.array(z.string()),
  entries: z.array(z.object({ path: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string() })),
});
export type BackupManifest = z.infer<typeof BackupManifest>;

export const sha256 = (content: Buffer | Uint8Array) => createHash("sha256").update(content).digest("hex");

/** Archive paths: the database under database/, each tenant's files under tenants/<id>/. */
export const tenantFilePath = (tenantId: string, relativePath: string) => `tenants/${tenantId}/${relativePath}`;
export const DATABASE_PATHS = { "pglite-datadir": "database/pglite-datadir.tar.gz", pg_dump: "database/postgres.sql", "tenant-rows": "database/tenant-rows.json" } as const;
