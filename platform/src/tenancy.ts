import { AppError } from "@workforce/protocol";
import type { AuthenticatedUser } from "./auth/access-token";
import { hashToken } from "./auth/refresh-token";
import { audit } from "./db/audit";
import type { Database, Role } from "./db/schema";
import { withTenant } from "./db/with-tenant";

/**
 * The few privileged tenancy operations that cannot run inside one tenant's transaction: they
 * create a tenant, or find a tenant from a secret (an invitation token). They run as the table
 * owner, deliberately narrow, and audit into the tenant they touch.
 */
export function createTenancy(db: Database, now: () => Date) {
  return {
    /** A new organisation with `userId` as its owner. */
    async createTenant(userId: string, name: string): Promise<{ id: string; name: string; role: Role }> {
      return db.transaction().execute(async (trx) => {
        const tenant = await trx.insertInto("tenants").values({ name, created_at: now() }).returning(["id", "name"]).executeTakeFirstOrThrow();
        await trx.insertInto("memberships").values({ tenant_id: tenant.id, user_id: userId, role: "owner", created_at: now() }).execute();
        await audit(trx, { tenantId: tenant.id, actor: { userId, apiKeyId: null }, action: "tenant.create", target: tenant.id, details: { name } });
        return { ...tenant, role: "owner" as const };
      });
    },

    /** Joins the invitation's tenant; the signed-in user's email must be the invited one. */
    async acceptInvitation(user: AuthenticatedUser, token: string): Promise<{ id: string; name: string; role: Role }> {
      const invitation = await db
        .selectFrom("invitations")
        .selectAll()
        .where("token_hash", "=", hashToken(token))
        .executeTakeFirst();
      const usable = invitation && !invitation.accepted_at && !invitation.revoked_at && new Date(invitation.expires_at) > now();
      if (!invitation || !usable) throw new AppError("not_found", "This invitation does not exist, has expired, or was already used");
      if (invitation.email !== user.email.toLowerCase()) {
        throw new AppError("forbidden", `This invitation is for ${invitation.email}; sign in with that address to accept it`);
      }
      return withTenant(db, invitation.tenant_id, async (trx) => {
        await trx
          .insertInto("memberships")
          .values({ tenant_id: invitation.tenant_id, user_id: user.id, role: invitation.role, created_at: now() })
          .onConflict((conflict) => conflict.columns(["tenant_id", "user_id"]).doNothing())
          .execute();
        await trx.updateTable("invitations").set({ accepted_at: now() }).where("id", "=", invitation.id).execute();
        await audit(trx, {
          tenantId: invitation.tenant_id,
          actor: { userId: user.id, apiKeyId: null },
          action: "invitation.accept",
          target: invitation.id,
          details: { email: invitation.email, role: invitation.role },
        });
        const membership = await trx
          .selectFrom("memberships")
          .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
          .select(["tenants.id as id", "tenants.name as name", "memberships.role as role"])
          .where("memberships.user_id", "=", user.id)
          .where("memberships.tenant_id", "=", invitation.tenant_id)
          .executeTakeFirstOrThrow();
        return membership;
      });
    },

    /**
     * Supabase mode: the first time a Supabase user calls the API, mirror them locally (no
     * password) and give them an organisation of their own, as embedded sign-up does.
     */
    async provisionUser(user: AuthenticatedUser): Promise<void> {
      const inserted = await db
        .insertInto("users")
        .values({ id: user.id, email: user.email.toLowerCase() || `${user.id}@users.invalid`, password_hash: "!external", created_at: now(), updated_at: now() })
        .onConflict((conflict) => conflict.column("id").doNothing())
        .returning("id")
        .executeTakeFirst();
      if (!inserted) return;
      const localPart = user.email.split("@")[0] || "my";
      await this.createTenant(user.id, `${localPart}'s organisation`);
    },
  };
}

export type Tenancy = ReturnType<typeof createTenancy>;
