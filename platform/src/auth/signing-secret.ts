import { randomBytes } from "node:crypto";
import type { SystemDatabase } from "../db/schema";
import { withSystem } from "../db/scopes";

const KEY = "jwt_secret";

/**
 * The embedded auth's HS256 secret. Generated once and kept in the database so every platform
 * process behind a load balancer signs and verifies with the same key.
 */
export async function loadSigningSecret(system: SystemDatabase): Promise<Uint8Array> {
  const row = await withSystem(system, async (trx) => {
    await trx
      .insertInto("settings")
      .values({ key: KEY, value: randomBytes(32).toString("base64url") })
      .onConflict((conflict) => conflict.column("key").doNothing())
      .execute();
    return trx.selectFrom("settings").select("value").where("key", "=", KEY).executeTakeFirstOrThrow();
  });
  return new TextEncoder().encode(row.value);
}
