import { timingSafeEqual } from "node:crypto";
import { AppError, describeZodError } from "@workforce/protocol";
import { Hono } from "hono";
import type { OpenDatabase } from "../../db/open-database";
import { dumpTenantRows, restoreTenantRows, TenantRows } from "./tenant-rows";

/** Where `workforce backup` and `workforce restore` reach the platform (outside /api: no body limit, no user auth). */
export const PLATFORM_BACKUP_PATH = "/ops/backup";

export interface PlatformBackupDeps {
  database: Pick<OpenDatabase, "system" | "dumpDataDir" | "kind">;
  /** CLAWDBOT_HOOK_TOKEN: the operator CLI authenticates with the installation's service token. */
  hookToken: string | undefined;
}

/** Throws 401 unless the Authorization header carries the hook token. Errors go to the app's one error handler. */
function assertAuthorized(header: string | undefined, token: string | undefined): void {
  if (!token) throw new AppError("unauthorized", "backups through the platform need CLAWDBOT_HOOK_TOKEN set on the platform (and given to the CLI)");
  const given = Buffer.from(/^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1] ?? "");
  const expected = Buffer.from(token);
  const ok = given.length === expected.length && timingSafeEqual(given, expected);
  if (!ok) throw new AppError("unauthorized", "the bearer token is not this installation's CLAWDBOT_HOOK_TOKEN");
}

/**
 * The database side of an online backup (decision 020). The embedded PGlite can be open in one
 * process only, so while the platform runs, only the platform can copy it; per-tenant rows are
 * read and restored here too, so they work the same on PGlite and Postgres.
 */
export function platformBackupRoutes(deps: PlatformBackupDeps): Hono {
  const app = new Hono();
  app.use("*", async (c, next) => {
    assertAuthorized(c.req.header("authorization"), deps.hookToken);
    await next();
  });

  // The embedded database's data directory (gzipped tar), consistent while the platform runs.
  app.get("/database", async (c) => {
    if (!deps.database.dumpDataDir) {
      throw new AppError("conflict", "this platform uses Postgres (DATABASE_URL): the CLI backs it up with pg_dump");
    }
    const dump = await deps.database.dumpDataDir();
    return c.body(dump.buffer as ArrayBuffer, 200, { "Content-Type": "application/gzip", "Cache-Control": "no-store" });
  });

  app.get("/tenants/:tenantId/rows", async (c) => c.json(await dumpTenantRows(deps.database.system, c.req.param("tenantId"))));

  app.post("/tenants/:tenantId/rows", async (c) => {
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new AppError("invalid_json", "the body is not JSON");
    }
    const parsed = TenantRows.safeParse(body);
    if (!parsed.success) throw new AppError("backup_invalid", describeZodError(parsed.error));
    if (parsed.data.tenantId !== c.req.param("tenantId")) throw new AppError("backup_invalid", "the rows belong to another organisation");
    return c.json(await restoreTenantRows(deps.database.system, parsed.data));
  });

  return app;
}
