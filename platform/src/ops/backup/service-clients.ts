import { ApiErrorBody } from "@workforce/protocol";
import { backupRestorePath, BACKUP_FILES_PATH, BACKUP_TENANTS_PATH, BackupStreamLine, BackupTenantList, RestoredFiles } from "@workforce/protocol/backup";
import { CliError } from "../../cli/cli-command";
import { TenantRows } from "./tenant-rows";
import { PLATFORM_BACKUP_PATH } from "./platform-backup-routes";

/** Where the CLI finds the running services, and the token both accept from it. */
export interface ServiceEndpoints {
  gatewayUrl: string;
  platformUrl: string;
  hookToken: string | undefined;
}

async function request(service: string, url: string, token: string | undefined, init: RequestInit = {}): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string> | undefined) } });
  } catch (error) {
    throw new CliError(`cannot reach the ${service} at ${new URL(url).origin} (${error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error)}): is it running? (--${service}-url)`);
  }
  if (response.ok) return response;
  const text = await response.text();
  const body = ApiErrorBody.safeParse((() => { try { return JSON.parse(text) as unknown; } catch { return undefined; } })());
  const detail = body.success ? `${body.data.error.message} (${body.data.error.code})` : `HTTP ${response.status}`;
  throw new CliError(`the ${service} refused: ${detail}`);
}

export function gatewayBackupClient(endpoints: ServiceEndpoints) {
  const url = (path: string) => new URL(path, endpoints.gatewayUrl).toString();
  return {
    /** Tenants holding files on the gateway. */
    async tenants(): Promise<string[]> {
      return BackupTenantList.parse(await (await request("gateway", url(BACKUP_TENANTS_PATH), endpoints.hookToken)).json()).tenants;
    },
    /** The gateway's consistent cut of one tenant's (or every tenant's) files, line by line. */
    async *files(tenantId: string | undefined): AsyncGenerator<BackupStreamLine> {
      const query = tenantId ? `?tenant=${encodeURIComponent(tenantId)}` : "";
      const response = await request("gateway", url(`${BACKUP_FILES_PATH}${query}`), endpoints.hookToken);
      let buffered = "";
      const decoder = new TextDecoder();
      const parse = (text: string) => {
        const parsed = BackupStreamLine.safeParse(JSON.parse(text));
        if (!parsed.success) throw new CliError("the gateway sent a backup line this CLI does not understand (are both from the same release?)");
        return parsed.data;
      };
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        let newline = buffered.indexOf("\n");
        while (newline >= 0) {
          yield parse(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf("\n");
        }
      }
      if (buffered.trim() !== "") yield parse(buffered);
    },
    async restore(tenantId: string, lines: string[]): Promise<RestoredFiles> {
      const body = lines.join("\n") + "\n";
      const response = await request("gateway", url(backupRestorePath(tenantId)), endpoints.hookToken, { method: "PUT", body, headers: { "content-type": "application/x-ndjson" } });
      return RestoredFiles.parse(await response.json());
    },
  };
}

export function platformBackupClient(endpoints: ServiceEndpoints) {
  const url = (path: string) => new URL(`${PLATFORM_BACKUP_PATH}${path}`, endpoints.platformUrl).toString();
  return {
    async databaseDir(): Promise<Buffer> {
      return Buffer.from(await (await request("platform", url("/database"), endpoints.hookToken)).arrayBuffer());
    },
    async tenantRows(tenantId: string): Promise<TenantRows> {
      return TenantRows.parse(await (await request("platform", url(`/tenants/${encodeURIComponent(tenantId)}/rows`), endpoints.hookToken)).json());
    },
    async restoreTenantRows(rows: TenantRows): Promise<void> {
      await request("platform", url(`/tenants/${encodeURIComponent(rows.tenantId)}/rows`), endpoints.hookToken, {
        method: "POST",
        body: JSON.stringify(rows),
        headers: { "content-type": "application/json" },
      });
    },
  };
}
