import { AppError } from "@workforce/protocol";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type OpenDatabase } from "../../db/open-database";
import { withSystem } from "../../db/scopes";
import { PLATFORM_BACKUP_PATH, platformBackupRoutes } from "./platform-backup-routes";
import { readTarGz } from "./tar-archive";
import { TenantRows } from "./tenant-rows";

const TOKEN = "hook-token-for-backups";
let database: OpenDatabase;
let app: Hono;
let tenantId: string;

beforeAll(async () => {
  database = await openDatabase({ pgliteDataDir: "memory://" });
  tenantId = await withSystem(database.system, async (trx) => {
    const [tenant] = await trx.insertInto("tenants").values({ name: "Acme" }).returning("id").execute();
    const [user] = await trx.insertInto("users").values({ email: "ada@example.com", password_hash: "x" }).returning("id").execute();
    await trx.insertInto("memberships").values({ tenant_id: tenant!.id, user_id: user!.id, role: "owner" }).execute();
    return tenant!.id;
  });
  // As the platform mounts it: AppErrors become `{ error: { code, message } }` in the app's one handler.
  app = new Hono();
  app.onError((error, c) => (error instanceof AppError ? c.json(error.toBody(), error.status as 401) : c.json({ error: { code: "internal_error", message: "unexpected" } }, 500)));
  app.route(PLATFORM_BACKUP_PATH, platformBackupRoutes({ database, hookToken: TOKEN }));
});
afterAll(async () => {
  await database?.close();
});

const get = (path: string, token = TOKEN) => app.request(`${PLATFORM_BACKUP_PATH}${path}`, { headers: { authorization: `Bearer ${token}` } });

describe("the platform's backup routes", () => {
  it("answer only the hook token, with the error shape", async () => {
    for (const token of ["wrong", "ünïcödé-token-of-other-length"]) {
      const response = await get("/database", token);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: "unauthorized" } });
    }
  });

  it("copy the running embedded database as a PGlite data directory", async () => {
    const response = await get("/database");
    expect(response.status).toBe(200);
    const files = readTarGz(Buffer.from(await response.arrayBuffer()));
    expect(files.some((file) => file.name.endsWith("PG_VERSION"))).toBe(true);
  });

  it("read a tenant's rows with the users they name, and refuse to restore them where the organisation exists", async () => {
    const rows = TenantRows.parse(await (await get(`/tenants/${tenantId}/rows`)).json());
    expect(rows.tables.tenants).toHaveLength(1);
    expect(rows.tables.memberships).toHaveLength(1);
    expect(rows.tables.users?.map((user) => user.email)).toEqual(["ada@example.com"]);
    const again = await app.request(`${PLATFORM_BACKUP_PATH}/tenants/${tenantId}/rows`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(rows),
    });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ error: { code: "tenant_exists" } });
  });
});
