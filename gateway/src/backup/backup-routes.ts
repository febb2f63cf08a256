import { AppError } from "@workforce/protocol";
import type { BackupStreamLine, BackupTenantList } from "@workforce/protocol/backup";
import { assertTenantId } from "@workforce/protocol/tenant-path";
import { Hono } from "hono";
import type { Logger } from "../logger";
import type { GatewayEnv } from "../server/gateway-env";
import type { RestoreTenant } from "./tenant-restore";
import { listTenants, snapshotTenant, tenantHasFiles, type SnapshotDeps } from "./tenant-snapshot";

export interface BackupRouteDeps extends SnapshotDeps {
  restoreTenant: RestoreTenant;
  logger: Logger;
}

/** The lines of a request body, one at a time (a restore can be far larger than any other body). */
async function* bodyLines(body: ReadableStream<Uint8Array> | null): AsyncGenerator<string> {
  if (!body) return;
  const decoder = new TextDecoder();
  let buffered = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf("\n");
    while (newline >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf("\n");
    }
  }
  buffered += decoder.decode();
  if (buffered !== "") yield buffered;
}

const line = (value: BackupStreamLine) => new TextEncoder().encode(JSON.stringify(value) + "\n");

/**
 * `/backup`: what `workforce backup` and `workforce restore` ask of the gateway, the only process
 * that touches TENANT_DATA_DIR (decision 020). Authenticated by the hook token like `/v1`; not
 * tenant-scoped by header, since a full backup spans every tenant.
 */
export function backupRoutes(deps: BackupRouteDeps): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  // Tenants that hold files here: `workforce restore` refuses a full restore unless this is empty.
  app.get("/tenants", async (c) => {
    const all = await listTenants(deps.dataDir);
    const withFiles: string[] = [];
    for (const tenantId of all) if (await tenantHasFiles(deps.dataDir, tenantId)) withFiles.push(tenantId);
    return c.json({ tenants: withFiles } satisfies BackupTenantList);
  });

  // A consistent cut of one tenant's files (?tenant=<id>) or every tenant's, as JSON lines; one tenant is read at a time.
  app.get("/files", async (c) => {
    const only = c.req.query("tenant");
    const tenants = only === undefined ? await listTenants(deps.dataDir) : [assertTenantId(only)];
    let index = 0;
    let files = 0;
    let bytes = 0;
    let done = false;
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(line({ type: "backup-start", tenants, takenAt: new Date().toISOString() }));
      },
      async pull(controller) {
        if (done) return;
        const tenantId = tenants[index++];
        if (tenantId === undefined) {
          done = true;
          controller.enqueue(line({ type: "backup-end", files, bytes }));
          controller.close();
          return;
        }
        try {
          await snapshotTenant(deps, tenantId, (file) => {
            files += 1;
            bytes += file.bytes;
            const { content, ...rest } = file;
            controller.enqueue(line({ type: "file", tenantId, ...rest, data: content.toString("base64") }));
          });
        } catch (error) {
          // The status line is long gone: the failure is the stream's last line, which the CLI reports.
          deps.logger.error(`backup of tenant ${tenantId} failed`, error);
          const detail = error instanceof AppError ? error.toBody().error : { code: "internal_error", message: `reading tenant ${tenantId} failed` };
          done = true;
          controller.enqueue(line({ type: "backup-error", error: detail }));
          controller.close();
        }
      },
    });
    return c.body(stream, 200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-store" });
  });

  // One tenant's files from a backup, as the JSON lines GET /files gave; 409 tenant_exists when it has files here.
  app.put("/tenants/:tenantId/files", async (c) => {
    const tenantId = assertTenantId(c.req.param("tenantId"));
    return c.json(await deps.restoreTenant(tenantId, bodyLines(c.req.raw.body)));
  });

  return app;
}
