import { AppError } from "@workforce/protocol";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { listMemberships } from "../auth/authenticate";
import { operationRoutes } from "../auth/operation-route";
import { mayCreateOrganisation, type SignupPolicy } from "../auth/signup-policy";
import type { Database } from "../db/schema";
import { withUser } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";

/** The signed-in user's own flags: whether their address is confirmed, and whether they run the installation. */
export async function accountFlags(db: Database, userId: string): Promise<{ email: string; emailConfirmed: boolean; operator: boolean }> {
  const row = await withUser(db, userId, (trx) => trx.selectFrom("users").select(["email", "email_confirmed_at", "is_operator"]).where("id", "=", userId).executeTakeFirst());
  if (!row) throw new AppError("invalid_token", "This account no longer exists; sign in again");
  return { email: row.email, emailConfirmed: row.email_confirmed_at !== null, operator: row.is_operator };
}

/** `GET /api/me`: who I am, my organisations, what I may do on this installation, and which model answers (from the gateway). */
export function meRoutes(deps: { db: Database; gateway: GatewayClient; signup: SignupPolicy }) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("account.me", async (c, { user }) => {
    const [tenants, flags, health] = await Promise.all([listMemberships(deps.db, user.id), accountFlags(deps.db, user.id), deps.gateway.health()]);
    return c.json({
      user: { id: user.id, email: flags.email, emailConfirmed: flags.emailConfirmed, operator: flags.operator },
      tenants,
      canCreateOrganisation: mayCreateOrganisation(deps.signup, { email: flags.email, isOperator: flags.operator }),
      model: health.model,
    });
  });
  return app;
}
