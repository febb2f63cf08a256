import { AppError } from "@workforce/protocol";
import { z } from "zod";
import type { TenantTransaction } from "../../db/scopes";
import type { TenantSecrets } from "../../secrets/tenant-secrets";

/** Secret names of one server: its headers, its OAuth connection, its client registration, pending authorisations. */
export const secretNames = {
  prefix: (serverId: string) => `mcp/${serverId}/`,
  headers: (serverId: string) => `mcp/${serverId}/headers`,
  oauth: (serverId: string) => `mcp/${serverId}/oauth`,
  pending: (serverId: string, stateHash: string) => `mcp/${serverId}/oauth-pending/${stateHash.slice(0, 32)}`,
};

/** "…abcd" for values long enough to hint at safely; "set" otherwise. */
export function hintOf(value: string): string {
  return value.length >= 12 ? `…${value.slice(-4)}` : "set";
}

export function requireSecrets(secrets: TenantSecrets | undefined): TenantSecrets {
  if (!secrets) throw new AppError("secrets_unavailable", "Secrets cannot be stored: the operator has not set up a master key (WORKFORCE_SECRET_KEY)");
  return secrets;
}

/** Reads a JSON secret written by this module; a value of another shape counts as absent. */
export async function revealJson<S extends z.ZodType>(secrets: TenantSecrets, trx: TenantTransaction, tenantId: string, name: string, schema: S): Promise<z.infer<S> | undefined> {
  const text = await secrets.reveal(trx, tenantId, name);
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export const StoredHeaders = z.record(z.string(), z.string());
