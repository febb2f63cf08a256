import { AppError, UUID_PATTERN } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import type { AuthCache } from "../auth/auth-cache";
import { operationRoutes } from "../auth/operation-route";
import { audit } from "../db/audit";
import type { Database, Role, TenantTransaction } from "../db/schema";
import { withTenant } from "../db/scopes";
import { readJson } from "../validation";

export const RoleSchema = z.enum(["owner", "admin", "member"], { message: "must be 'owner', 'admin' or 'member'" });
export const MemberUpdate = z.object({ role: RoleSchema });

export interface MemberView {
  userId: string;
  email: string;
  role: Role;
  joinedAt: string;
}

function memberId(value: string): string {
  if (!UUID_PATTERN.test(value)) throw new AppError("not_found", "No such member in this organisation");
  return value;
}

async function findMember(trx: TenantTransaction, tenantId: string, userId: string) {
  const member = await trx.selectFrom("memberships").select(["user_id", "role"]).where("tenant_id", "=", tenantId).where("user_id", "=", userId).executeTakeFirst();
  if (!member) throw new AppError("not_found", "No such member in this organisation");
  return member;
}

async function assertAnotherOwner(trx: TenantTransaction, tenantId: string): Promise<void> {
  const owners = await trx.selectFrom("memberships").select("user_id").where("tenant_id", "=", tenantId).where("role", "=", "owner").execute();
  if (owners.length <= 1) throw new AppError("last_owner", "An organisation needs at least one owner; make someone else owner first");
}

/** Members of the current organisation: list (any member), change role and remove (owners/admins; anyone may leave). */
export function memberRoutes(deps: { db: Database; now: () => Date; authCache?: AuthCache }) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("members.list", async (c, { tenantId }) => {
    const rows = await withTenant(deps.db, tenantId, (trx) =>
      trx
        .selectFrom("memberships")
        .innerJoin("users", "users.id", "memberships.user_id")
        .select(["users.id as userId", "users.email as email", "memberships.role as role", "memberships.created_at as joinedAt"])
        .where("memberships.tenant_id", "=", tenantId)
        .orderBy("memberships.created_at", "asc")
        .execute(),
    );
    const members: MemberView[] = rows.map((row) => ({ ...row, joinedAt: row.joinedAt.toISOString() }));
    return c.json({ members });
  });

  route("members.update", async (c, { tenantId, role: callerRole, actor }) => {
    const userId = memberId(c.req.param("userId"));
    const { role } = await readJson(c, MemberUpdate);
    const member = await withTenant(deps.db, tenantId, async (trx) => {
      const target = await findMember(trx, tenantId, userId);
      if ((target.role === "owner" || role === "owner") && callerRole !== "owner") {
        throw new AppError("forbidden", "Only owners can grant or take away the owner role");
      }
      if (target.role === "owner" && role !== "owner") await assertAnotherOwner(trx, tenantId);
      const updated = await trx
        .updateTable("memberships")
        .set({ role })
        .where("tenant_id", "=", tenantId)
        .where("user_id", "=", userId)
        .returning(["user_id", "role", "created_at"])
        .executeTakeFirstOrThrow();
      const user = await trx.selectFrom("users").select("email").where("id", "=", userId).executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "member.role_change", target: userId, details: { from: target.role, to: role } });
      return { userId, email: user.email, role: updated.role, joinedAt: updated.created_at.toISOString() } satisfies MemberView;
    });
    // The member's new role applies from their next request, in this process at least.
    deps.authCache?.invalidateUser(userId);
    return c.json({ member });
  });

  route("members.remove", async (c, { tenantId, role, user, actor, mayActOnOthers }) => {
    const userId = memberId(c.req.param("userId"));
    const leaving = userId === user.id;
    if (!leaving && !mayActOnOthers) throw new AppError("forbidden", "Only owners and admins can remove someone else; you may leave (your own id)");
    await withTenant(deps.db, tenantId, async (trx) => {
      const target = await findMember(trx, tenantId, userId);
      if (target.role === "owner" && !leaving && role !== "owner") throw new AppError("forbidden", "Only owners can remove an owner");
      if (target.role === "owner") await assertAnotherOwner(trx, tenantId);
      await trx.deleteFrom("memberships").where("tenant_id", "=", tenantId).where("user_id", "=", userId).execute();
      await audit(trx, { tenantId, actor, action: leaving ? "member.leave" : "member.remove", target: userId });
    });
    deps.authCache?.invalidateUser(userId);
    return c.body(null, 204);
  });

  return app;
}
