import { randomUUID } from "node:crypto";
import { AppError, type ErrorCode, type SessionOwner } from "@workforce/protocol";
import type { Actor, TenantAccess } from "../auth/operation-route";
import { UNOWNED_SESSIONS } from "../auth/permissions";
import { audit } from "../db/audit";
import type { Database, TenantTransaction } from "../db/schema";
import { withTenant } from "../db/scopes";

/** How a session stands to the caller. */
export type Relation = "own" | "other" | "unowned";

/** A recorded owner; both ids null when it was nobody's (or its user was deleted). */
export interface OwnerRow {
  userId: string | null;
  apiKeyId: string | null;
}

/** A session's owner row with the names admins see (through row-level security: former members' emails are null). */
async function ownersOf(trx: TenantTransaction, tenantId: string, slug: string, key?: string) {
  let query = trx
    .selectFrom("session_owners")
    .leftJoin("users", "users.id", "session_owners.user_id")
    .leftJoin("api_keys", "api_keys.id", "session_owners.api_key_id")
    .select([
      "session_owners.session_key as key",
      "session_owners.user_id as userId",
      "session_owners.api_key_id as apiKeyId",
      "users.email as email",
      "api_keys.name as keyName",
    ])
    .where("session_owners.tenant_id", "=", tenantId)
    .where("session_owners.agent_slug", "=", slug);
  if (key !== undefined) query = query.where("session_owners.session_key", "=", key);
  return query.execute();
}

type NamedOwnerRow = Awaited<ReturnType<typeof ownersOf>>[number];

function ownerView(row: NamedOwnerRow | undefined): SessionOwner {
  if (row?.userId) return { type: "user", id: row.userId, email: row.email ?? null };
  if (row?.apiKeyId) return { type: "api-key", id: row.apiKeyId, name: row.keyName ?? null };
  return { type: "none", id: null };
}

export function relationOf(row: OwnerRow | undefined, actor: Actor): Relation {
  if (!row || (!row.userId && !row.apiKeyId)) return "unowned";
  const own = actor.userId ? row.userId === actor.userId : row.apiKeyId === actor.apiKeyId;
  return own ? "own" : "other";
}

/**
 * Throws unless the caller may do this operation on a session that stands to them as `relation`
 * (decision 010): their own always; someone else's when the rule's `ownership.others` has their
 * role, else 403 if they may see it exists and 404 if not; an unowned one with UNOWNED_SESSIONS.
 */
export function assertSessionAccess(access: TenantAccess, relation: Relation, notFound: { code: ErrorCode; message: string }): void {
  if (relation === "own") return;
  if (relation === "unowned") {
    if (access.role !== null && UNOWNED_SESSIONS.includes(access.role)) return;
    throw new AppError(notFound.code, notFound.message);
  }
  if (access.mayActOnOthers) return;
  if (access.maySeeOthers) throw new AppError("forbidden", "This session belongs to someone else: you may read it, not change it or write in it");
  throw new AppError(notFound.code, notFound.message);
}

const sessionNotFound = (key: string) => ({ code: "session_not_found" as const, message: `No session "${key.slice(0, 80)}"` });

/** The platform's record of who started each session, and the checks built on it. */
export function createSessionOwners(deps: { db: Database; now: () => Date; newKey?: () => string }) {
  const newKey = deps.newKey ?? randomUUID;

  async function lookUpIn(trx: TenantTransaction, tenantId: string, slug: string, key: string): Promise<NamedOwnerRow | undefined> {
    return (await ownersOf(trx, tenantId, slug, key))[0];
  }

  async function lookUp(tenantId: string, slug: string, key: string): Promise<NamedOwnerRow | undefined> {
    return withTenant(deps.db, tenantId, (trx) => lookUpIn(trx, tenantId, slug, key));
  }

  async function startNewIn(trx: TenantTransaction, tenantId: string, slug: string, actor: Actor): Promise<string> {
    const key = newKey();
    await trx
      .insertInto("session_owners")
      .values({ tenant_id: tenantId, agent_slug: slug, session_key: key, user_id: actor.userId, api_key_id: actor.apiKeyId, created_at: deps.now() })
      .execute();
    return key;
  }

  return {
    /** The owner as the API shows it. */
    view: ownerView,

    /**
     * Checks the caller against the session's owner and returns the owner, so the handler can
     * answer with it (and audit a read of someone else's). Unknown sessions count as unowned.
     */
    async authorize(access: TenantAccess, slug: string, key: string, notFound: { code: ErrorCode; message: string } = sessionNotFound(key)): Promise<{ owner: SessionOwner; relation: Relation }> {
      const row = await lookUp(access.tenantId, slug, key);
      const relation = relationOf(row, access.actor);
      assertSessionAccess(access, relation, notFound);
      return { owner: ownerView(row), relation };
    },

    /** Every recorded owner of the agent's sessions, by session key. */
    async ownersByKey(tenantId: string, slug: string): Promise<Map<string, NamedOwnerRow>> {
      const rows = await withTenant(deps.db, tenantId, (trx) => ownersOf(trx, tenantId, slug));
      return new Map(rows.map((row) => [row.key, row]));
    },

    /** A fresh session key, already recorded as the caller's. */
    async startNew(tenantId: string, slug: string, actor: Actor): Promise<string> {
      return withTenant(deps.db, tenantId, (trx) => startNewIn(trx, tenantId, slug, actor));
    },

    /** `startNew` in the caller's transaction (a message's admission, decision 051). */
    startNewIn,

    /**
     * Makes a session nobody owns yet the caller's, unless someone else was first: of two
     * concurrent claims exactly one wins. Returns the row as it stands afterwards.
     */
    async claim(tenantId: string, slug: string, key: string, actor: Actor): Promise<NamedOwnerRow | undefined> {
      return withTenant(deps.db, tenantId, async (trx) => {
        await trx
          .insertInto("session_owners")
          .values({ tenant_id: tenantId, agent_slug: slug, session_key: key, user_id: actor.userId, api_key_id: actor.apiKeyId, created_at: deps.now() })
          .onConflict((conflict) => conflict.columns(["tenant_id", "agent_slug", "session_key"]).doNothing())
          .execute();
        return (await ownersOf(trx, tenantId, slug, key))[0];
      });
    },

    lookUp,

    /** `lookUp` in the caller's transaction. */
    lookUpIn,

    /** Forgets a session's owner (the session was deleted, or never started). */
    async forget(tenantId: string, slug: string, key: string): Promise<void> {
      await withTenant(deps.db, tenantId, (trx) =>
        trx.deleteFrom("session_owners").where("tenant_id", "=", tenantId).where("agent_slug", "=", slug).where("session_key", "=", key).execute(),
      );
    },

    /** Records that the caller read a session that is not theirs (owners and admins may; it is audited). */
    async auditRead(access: TenantAccess, slug: string, key: string, owner: SessionOwner, details: Record<string, unknown> = {}): Promise<void> {
      await withTenant(deps.db, access.tenantId, (trx) =>
        audit(trx, {
          tenantId: access.tenantId,
          actor: access.actor,
          action: "session.read",
          target: `${slug}/${key}`,
          details: { owner: { type: owner.type, id: owner.id }, ...details },
        }),
      );
    },
  };
}

export type SessionOwners = ReturnType<typeof createSessionOwners>;
