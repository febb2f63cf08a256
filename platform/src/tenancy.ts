import { AppError } from "@workforce/protocol";
import { sql } from "kysely";
import type { AuthenticatedUser } from "./auth/access-token";
import { hashToken } from "./auth/refresh-token";
import { decideSignup, type SignupPolicy } from "./auth/signup-policy";
import { audit } from "./db/audit";
import type { Role, SystemDatabase, SystemTransaction } from "./db/schema";
import { withSystem } from "./db/scopes";
import { markPolicyChanged } from "./tenant-limits/policy-push";

export interface TenancyOptions {
  /** WORKFORCE_DEFAULT_MONTHLY_TOKENS: the budget every new organisation starts with; null for none. */
  defaultMonthlyTokens?: number | null;
  /** Decides whether a Supabase user's first call gets them an organisation of their own. */
  signup?: SignupPolicy;
}

export type InvitationRow = {
  id: string;
  tenant_id: string;
  email: string;
  role: Role;
  invited_by: string | null;
  expires_at: Date | string;
  accepted_at: Date | null;
  revoked_at: Date | null;
};

const INVITATION_GONE = () => new AppError("not_found", "This invitation does not exist, has expired, or was already used");

/** Serialises "is this the installation's first account?" across every platform process. */
const FIRST_USER_LOCK = 0x776f726b; // "work"

/**
 * The few privileged tenancy operations that cannot run inside one tenant's transaction: they
 * create a tenant, or find a tenant from a secret (an invitation token). They run in the system
 * scope, deliberately narrow, and audit into the tenant they touch.
 */
export function createTenancy(system: SystemDatabase, now: () => Date, options: TenancyOptions = {}) {
  /** A new organisation owned by `userId`, with the installation's default budget. */
  async function createTenantIn(trx: SystemTransaction, userId: string, name: string): Promise<{ id: string; name: string; role: Role }> {
    const tenant = await trx.insertInto("tenants").values({ name, created_at: now() }).returning(["id", "name"]).executeTakeFirstOrThrow();
    await trx.insertInto("memberships").values({ tenant_id: tenant.id, user_id: userId, role: "owner", created_at: now() }).execute();
    const budget = options.defaultMonthlyTokens ?? null;
    if (budget !== null) {
      await trx.insertInto("tenant_budgets").values({ tenant_id: tenant.id, monthly_tokens: budget, updated_by: null, updated_at: now() }).execute();
    }
    await audit(trx, { tenantId: tenant.id, actor: { userId, apiKeyId: null }, action: "tenant.create", target: tenant.id, details: { name, monthlyTokens: budget } });
    // The gateways learn its policy (the default budget) from the platforms' reconcile loop.
    await markPolicyChanged(trx, tenant.id);
    return { ...tenant, role: "owner" as const };
  }

  /**
   * Whether no account exists yet, under a transaction-wide lock, so that of two concurrent first
   * sign-ups exactly one becomes the operator.
   */
  async function isFirstUser(trx: SystemTransaction): Promise<boolean> {
    await sql`select pg_advisory_xact_lock(${FIRST_USER_LOCK})`.execute(trx);
    const any = await trx.selectFrom("users").select("id").limit(1).executeTakeFirst();
    return !any;
  }

  /** The invitation a token names, if it can still be used. */
  async function usableInvitation(trx: SystemTransaction, token: string): Promise<InvitationRow | undefined> {
    const invitation = await trx
      .selectFrom("invitations")
      .select(["id", "tenant_id", "email", "role", "invited_by", "expires_at", "accepted_at", "revoked_at"])
      .where("token_hash", "=", hashToken(token))
      .forUpdate()
      .executeTakeFirst();
    const usable = invitation && !invitation.accepted_at && !invitation.revoked_at && new Date(invitation.expires_at) > now();
    return usable ? invitation : undefined;
  }

  /** Joins the invitation's organisation with its role and marks it accepted (inside the caller's transaction). */
  async function joinIn(trx: SystemTransaction, userId: string, invitation: InvitationRow): Promise<{ id: string; name: string; role: Role }> {
    await trx
      .insertInto("memberships")
      .values({ tenant_id: invitation.tenant_id, user_id: userId, role: invitation.role, created_at: now() })
      .onConflict((conflict) => conflict.columns(["tenant_id", "user_id"]).doNothing())
      .execute();
    await trx.updateTable("invitations").set({ accepted_at: now() }).where("id", "=", invitation.id).execute();
    await audit(trx, {
      tenantId: invitation.tenant_id,
      actor: { userId, apiKeyId: null },
      action: "invitation.accept",
      target: invitation.id,
      details: { email: invitation.email, role: invitation.role },
    });
    return trx
      .selectFrom("memberships")
      .innerJoin("tenants", "tenants.id", "memberships.tenant_id")
      .select(["tenants.id as id", "tenants.name as name", "memberships.role as role"])
      .where("memberships.user_id", "=", userId)
      .where("memberships.tenant_id", "=", invitation.tenant_id)
      .executeTakeFirstOrThrow();
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
    createTenantIn,
    usableInvitation,
    joinIn,

    isFirstUser,

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

    /** Stops every platform process pushing the tenant's policy to the gateway (it is about to be erased). */
    async withdrawPolicy(tenantId: string): Promise<void> {
      await withSystem(system, (trx) => trx.deleteFrom("tenant_policy_pushes").where("tenant_id", "=", tenantId).execute());
    },

    /** What the invite page shows before anyone signs in: the organisation, who invited, the role. */
    async previewInvitation(token: string): Promise<{ organisation: string; inviterEmail: string | null; email: string; role: Role; expiresAt: string }> {
      const preview = await withSystem(system, async (trx) => {
        const invitation = await usableInvitation(trx, token);
        if (!invitation) return undefined;
        const tenant = await trx.selectFrom("tenants").select("name").where("id", "=", invitation.tenant_id).executeTakeFirstOrThrow();
        const inviter = invitation.invited_by ? await trx.selectFrom("users").select("email").where("id", "=", invitation.invited_by).executeTakeFirst() : undefined;
        return { organisation: tenant.name, inviterEmail: inviter?.email ?? null, email: invitation.email, role: invitation.role, expiresAt: new Date(invitation.expires_at).toISOString() };
      });
      if (!preview) throw INVITATION_GONE();
      return preview;
    },

    /**
     * Joins the invitation's tenant. Only the verified owner of the invited address may: holding
     * the link is not enough (it may have been forwarded, or seen by the inviter).
     */
    async acceptInvitation(user: AuthenticatedUser, token: string): Promise<{ id: string; name: string; role: Role }> {
      return withSystem(system, async (trx) => {
        const invitation = await usableInvitation(trx, token);
        if (!invitation) throw INVITATION_GONE();
        const account = await trx.selectFrom("users").select(["email", "email_confirmed_at", "password_hash"]).where("id", "=", user.id).executeTakeFirst();
        const email = account?.email ?? user.email.toLowerCase();
        if (invitation.email !== email) {
          throw new AppError("forbidden", `This invitation is for ${invitation.email}; sign in with that address to accept it`);
        }
        // Hosted Supabase confirms addresses itself before it signs a user in.
        const external = account?.password_hash === "!external";
        if (!external && !account?.email_confirmed_at) {
          throw new AppError("email_not_confirmed", `Confirm ${email} first (use the link we emailed you), then accept the invitation`);
        }
        return joinIn(trx, user.id, invitation);
      });
    },

    /**
     * Supabase mode: the first time a Supabase user calls the API, mirror them locally (no
     * password). They get an organisation of their own when the sign-up policy would give one
     * (the installation's first user always, and becomes its operator).
     *
     * Idempotent under concurrency: the user row, the organisation and the membership are made
     * in one transaction, so a second first request either waits on the user row's insert and
     * then finds everything committed, or does nothing.
     */
    async provisionUser(user: AuthenticatedUser, context: { joiningByInvitation: boolean }): Promise<void> {
      const known = await withSystem(system, (trx) => trx.selectFrom("users").select("id").where("id", "=", user.id).executeTakeFirst());
      if (known) return;
      for (const placeholder of [false, true]) {
        const outcome = await withSystem(system, async (trx) => {
          const first = await isFirstUser(trx);
          const email = placeholder ? `${user.id}@users.invalid` : await freeEmail(trx, user);
          // No conflict target: a concurrent insert of the same id (or email) waits, then does nothing.
          const inserted = await trx
            .insertInto("users")
            .values({ id: user.id, email, password_hash: "!external", created_at: now(), updated_at: now(), email_confirmed_at: now(), is_operator: first })
            .onConflict((conflict) => conflict.doNothing())
            .returning("id")
            .executeTakeFirst();
          if (inserted) {
            const ownOrganisation = (() => {
              if (context.joiningByInvitation && !first) return false;
              try {
                return decideSignup(options.signup ?? { mode: "open", domains: [] }, { email, firstUser: first, invited: false }).ownOrganisation;
              } catch {
                return false;
              }
            })();
            const localPart = user.email.split("@")[0] || "my";
            if (ownOrganisation) await createTenantIn(trx, user.id, `${localPart}'s organisation`);
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
