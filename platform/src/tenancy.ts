import { AppError } from "@workforce/protocol";
import type { AuthenticatedUser } from "./auth/access-token";
import { hashToken } from "./auth/refresh-token";
import { audit } from "./db/audit";
import type { Role, SystemDatabase, SystemTransaction } from "./db/schema";
import { withSystem, withTenant } from "./db/scopes";

/**
 * The few privileged tenancy operations that cannot run inside one tenant's transaction: they
 * create a tenant, or find a tenant from a secret (an invitation token). They run in the system
 * scope, deliberately narrow, and audit into the tenant they touch.
 */
export function createTenancy(system: SystemDatabase, now: () => Date) {
  async function createTenantIn(trx: SystemTransaction, userId: string, name: string): Promise<{ id: string; name: string; role: Role }> {
    const tenant = await trx.insertInto("tenants").values({ name, created_at: now() }).returning(["id", "name"]).executeTakeFirstOrThrow();
    await trx.insertInto("memberships").values({ tenant_id: tenant.id, user_id: userId, role: "owner", created_at: now() }).execute();
    await audit(trx, { tenantId: tenant.id, actor: { userId, apiKeyId: null }, action: "tenant.create", target: tenant.id, details: { name } });
    return { ...tenant, role: "owner" as const };
  }

  /**
   * The local copy of a Supabase user's email. Emails are unique here, but Supabase may hand an
   * address to a new user id (the old account was deleted): the newcomer then gets a placeholder
   * rather than a failed request, and invitations still match the email in their token.
   */
  async function freeEmail(trx: SystemTransaction, user: AuthenticatedUser): Promise<string> {
    const email = user.email.toLowerCase();
    if (!email) return `${user.id}@users.invalid`;
    const holder = await trx.selectFrom("users").select("id").where("email", "=", email).executeTakeFirst();
    return holder && holder.id !== user.id ? `${user.id}@users.invalid` : email;
  }

  return {
    /** A new organisation with `userId` as its owner. */
    async createTenant(userId: string, name: string): Promise<{ id: string; name: string; role: Role }> {
      return withSystem(system, (trx) => createTenantIn(trx, userId, name));
    },

    /**
     * Deletes the organisation and, by cascade, every row that belongs to it: memberships,
     * agents, invitations, API keys, usage, budget and its audit log. Users stay (they may
     * belong to other organisations). Runs in the system scope: the app role may not delete tenants.
     */
    async deleteTenant(tenantId: string): Promise<void> {
      await withSystem(system, async (trx) => {
        await trx.deleteFrom("stream_tenant_streams").where("tenant_id", "=", tenantId).execute();
        await trx.deleteFrom("tenants").where("id", "=", tenantId).execute();
      });
    },

    /** Joins the invitation's tenant; the signed-in user's email must be the invited one. */
    async acceptInvitation(user: AuthenticatedUser, token: string): Promise<{ id: string; name: string; role: Role }> {
      const invitation = await withSystem(system, (trx) =>
        trx.selectFrom("invitations").selectAll().where("token_hash", "=", hashToken(token)).executeTakeFirst(),
      );
      const usable = invitation && !invitation.accepted_at && !invitation.revoked_at && new Date(invitation.expires_at) > now();
      if (!invitation || !usable) throw new AppError("not_found", "This invitation does not exist, has expired, or was already used");
      if (invitation.email !== user.email.toLowerCase()) {
        throw new AppError("forbidden", `This invitation is for ${invitation.email}; sign in with that address to accept it`);
      }
      return withTenant(system, invitation.tenant_id, async (trx) => {
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
     *
     * Idempotent under concurrency: the user row, the organisation and the membership are made
     * in one transaction, so a second first request either waits on the user row's insert and
     * then finds everything committed, or does nothing. None of them can see the user without
     * their organisation (which used to answer 403).
     */
    async provisionUser(user: AuthenticatedUser): Promise<void> {
      const known = await withSystem(system, (trx) => trx.selectFrom("users").select("id").where("id", "=", user.id).executeTakeFirst());
      if (known) return;
      for (const placeholder of [false, true]) {
        const outcome = await withSystem(system, async (trx) => {
          const email = placeholder ? `${user.id}@users.invalid` : await freeEmail(trx, user);
          // No conflict target: a concurrent insert of the same id (or email) waits, then does nothing.
          const inserted = await trx
            .insertInto("users")
            .values({ id: user.id, email, password_hash: "!external", created_at: now(), updated_at: now() })
            .onConflict((conflict) => conflict.doNothing())
            .returning("id")
            .executeTakeFirst();
          if (inserted) {
            const localPart = user.email.split("@")[0] || "my";
            await createTenantIn(trx, user.id, `${localPart}'s organisation`);
            return "created";
          }
          const exists = await trx.selectFrom("users").select("id").where("id", "=", user.id).executeTakeFirst();
          return exists ? "exists" : "email-taken";
        });
        if (outcome !== "email-taken") return;
      }
    },
  };
}

export type Tenancy = ReturnType<typeof createTenancy>;
