import { randomBytes } from "node:crypto";
import type { Database } from "../db/schema";

const KEY = "jwt_secret";

/**
 * The embedded auth's HS256 secret. Generated once and kept in the database so every platform
 * process behind a load balancer signs and verifies with the same key.
 */
export async function loadSigningSecret(db: Database): Promise<Uint8Array> {
  await db
    .insertInto("settings")
    .values({ key: KEY, value: randomBytes(32).toString("base64url") })
    .onConflict((conflict) => conflict.column("key").doNothing())
    .execute();
  const row = await db.selectFrom("settings").select("value").where("key", "=", KEY).executeTakeFirstOrThrow();
  return new TextEncoder().encode(row.value);
}
