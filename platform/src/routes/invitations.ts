import { randomBytes } from "node:crypto";
import { AppError, UUID_PATTERN } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env";
import { operationRoutes } from "../auth/operation-route";
import { hashToken } from "../auth/refresh-token";
import { audit } from "../db/audit";
import type { Database, Role } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { Tenancy } from "../tenancy";
import type { AccountMail } from "../auth/account-mail";
import { readJson } from "../validation";
import { RoleSchema } from "./members";

export const INVITATION_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const InvitationInput = z.object({
  email: z.string({ message: "is required" }).trim().toLowerCase().pipe(z.email({ message: "must be a valid email address" })),
  role: RoleSchema.default("member"),
  /**
   * Confirms replacing a pending invitation to the same address that names another role; without
   * it such a request is refused with 409 `invitation_pending`, so a role never changes unnoticed.
   */
  replace: z.boolean({ message: "must be true or false" }).optional(),
});
export const AcceptInput = z.object({ token: z.string({ message: "is required" }).min(1, "is required").max(200) });

export interface InvitationView {
  id: string;
  email: string;
  role: Role;
  invitedBy: string | null;
  createdAt: string;
  expiresAt: string;
}

function toView(row: { id: string; email: string; role: Role; invited_by: string | null; created_at: Date; expires_at: Date | string }): InvitationView {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    invitedBy: row.invited_by,
    createdAt: row.created_at.toISOString(),
    expiresAt: new Date(row.expires_at).toISOString(),
  };
}

/**
 * `POST /api/invitations/preview`: what an invitation link is for, before anyone signs in: the
 * organisation, who invited and the role. Holding the link (a secret mailed to the address) is
 * what lets one see this much; accepting needs the verified owner of the address.
 */
export function invitationPreviewRoutes(deps: { tenancy: Tenancy }) {
  const app = new Hono<AppEnv>();
  operationRoutes(app)("invitations.preview", async (c) => {
    const { token } = await readJson(c, AcceptInput);
    return c.json({ invitation: await deps.tenancy.previewInvitation(token) });
  });
  return app;
}

/** Invitations by email with a role (owners/admins), and accepting one (the confirmed owner of the invited address). */
export function invitationRoutes(deps: { db: Database; tenancy: Tenancy; now: () => Date; mail: AccountMail }) {
  const app = new Hono<AppEnv>();
  const route = operationRoutes(app);

  route("invitations.accept", async (c, { user }) => {
    const { token } = await readJson(c, AcceptInput);
    return c.json({ tenant: await deps.tenancy.acceptInvitation(user, token) });
  });

  route("invitations.list", async (c, { tenantId }) => {
    const rows = await withTenant(deps.db, tenantId, (trx) =>
      trx
        .selectFrom("invitations")
        .selectAll()
        .where("accepted_at", "is", null)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", deps.now())
        .orderBy("created_at", "desc")
        .execute(),
    );
    return c.json({ invitations: rows.map(toView) });
  });

  route("invitations.create", async (c, { tenantId, role: callerRole, actor, user }) => {
    const input = await readJson(c, InvitationInput);
    if (input.role === "owner" && callerRole !== "owner") throw new AppError("forbidden", "Only owners can invite owners");
    const token = randomBytes(24).toString("base64url");
    const { invitation, organisation, replaced } = await withTenant(deps.db, tenantId, async (trx) => {
      const member = await trx
        .selectFrom("memberships")
        .innerJoin("users", "users.id", "memberships.user_id")
        .select("users.id")
        .where("memberships.tenant_id", "=", tenantId)
        .where("users.email", "=", input.email)
        .executeTakeFirst();
      if (member) throw new AppError("conflict", `${input.email} is already a member of this organisation`);
      const earlier = await trx
        .selectFrom("invitations")
        .select("role")
        .where("tenant_id", "=", tenantId)
        .where("email", "=", input.email)
        .where("accepted_at", "is", null)
        .where("revoked_at", "is", null)
        .where("expires_at", ">", deps.now())
        .executeTakeFirst();
      if (earlier && earlier.role !== input.role && input.replace !== true) {
        throw new AppError(
          "invitation_pending",
          `${input.email} already has a pending invitation as ${earlier.role}; send it again with "replace": true to invite them as ${input.role} instead`,
        );
      }
      // A new invitation replaces any pending one for the same address.
      const replaced = await trx
        .updateTable("invitations")
        .set({ revoked_at: deps.now() })
        .where("email", "=", input.email)
        .where("accepted_at", "is", null)
        .where("revoked_at", "is", null)
        .returning("id")
        .execute();
      const row = await trx
        .insertInto("invitations")
        .values({
          tenant_id: tenantId,
          email: input.email,
          role: input.role,
          token_hash: hashToken(token),
          invited_by: actor.userId,
          created_at: deps.now(),
          expires_at: new Date(deps.now().getTime() + INVITATION_TTL_MS),
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, { tenantId, actor, action: "invitation.create", target: row.id, details: { email: input.email, role: input.role } });
      const tenant = await trx.selectFrom("tenants").select("name").where("id", "=", tenantId).executeTakeFirstOrThrow();
      return { invitation: row, organisation: tenant.name, replaced: replaced.map((entry) => entry.id) };
    });
    // The link goes only to the invited address. An invitation that cannot be mailed is
    // withdrawn, and the one it would have replaced (whose link was mailed earlier) stands again.
    try {
      await deps.mail.invitation(input.email, { token, organisation, inviterEmail: user.email, role: input.role });
    } catch (error) {
      await withTenant(deps.db, tenantId, async (trx) => {
        await trx.deleteFrom("invitations").where("id", "=", invitation.id).execute();
        // Unless someone has invited the address again in the meantime.
        const newer = await trx.selectFrom("invitations").select("id").where("email", "=", input.email).where("accepted_at", "is", null).where("revoked_at", "is", null).executeTakeFirst();
        if (replaced.length > 0 && !newer) await trx.updateTable("invitations").set({ revoked_at: null }).where("id", "in", replaced).execute();
      });
      throw error;
    }
    return c.json({ invitation: toView(invitation), delivery: deps.mail.delivery() }, 201);
  });

  route("invitations.revoke", async (c, { tenantId, actor }) => {
    const id = c.req.param("id");
    if (!UUID_PATTERN.test(id)) throw new AppError("not_found", "No such invitation");
    await withTenant(deps.db, tenantId, async (trx) => {
      const revoked = await trx
        .updateTable("invitations")
        .set({ revoked_at: deps.now() })
        .where("id", "=", id)
        .where("tenant_id", "=", tenantId)
        .where("accepted_at", "is", null)
        .where("revoked_at", "is", null)
        .executeTakeFirst();
      if (revoked.numUpdatedRows === 0n) throw new AppError("not_found", "No such invitation");
      await audit(trx, { tenantId, actor, action: "invitation.revoke", target: id });
    });
    return c.body(null, 204);
  });

  return app;
}
