import { AppError, type RunIntegrations } from "@workforce/protocol";
import type { TenantAccess } from "../auth/operation-route";
import { withSystemThenTenant, type SystemDatabase, type TenantTransaction } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import type { RunIntegrationsResolver } from "../integrations/run-integrations";
import type { ApiLimiter } from "../limits/api-limits";
import type { StreamLease } from "../limits/stream-leases";
import { assertSessionAccess, relationOf, type SessionOwners } from "./session-owners";

/** A message let in: its stream place, the session it goes to, and what its run may use. */
export interface AdmittedMessage {
  /** Release it when the stream ends, or when the run does not start. */
  lease: StreamLease;
  /** `fresh`: a new session recorded as the caller's, to forget again if the run does not start. */
  session: { key: string; fresh: boolean };
  /** Undefined when the platform has no integrations. */
  integrations: RunIntegrations | undefined;
}

export interface MessageAdmissionDeps {
  system: SystemDatabase;
  streams: Pick<ApiLimiter, "prepareStream">;
  owners: Pick<SessionOwners, "startNewIn" | "lookUpIn" | "claim" | "forget">;
  integrations?: RunIntegrationsResolver | undefined;
  /** Asked, outside the transaction, whether it knows a session nobody owns. */
  gateway: Pick<GatewayClient, "getSession">;
  logError: (message: string, error: unknown) => void;
}

/** Lets a message in (or throws its 4xx); its session `requested` or, without one, a new one of the caller's. */
export type MessageAdmission = (access: TenantAccess, slug: string, requested: string | undefined) => Promise<AdmittedMessage>;

type SessionStep = { key: string; fresh: boolean } | { unclaimed: string };

const sessionNotFound = (key: string) => ({ code: "session_not_found" as const, message: `No session "${key}"` });

/**
 * A message's admission in one database transaction (decision 051): the stream place (as
 * `workforce_system`, the limits are cross-tenant), then, in the same transaction as the tenant,
 * the session's owner (a new one recorded, or an existing one checked) and every integration
 * part's reads. A refusal anywhere rolls all of it back: a 429 leaves no session owner, a session
 * the caller may not write to leaves no stream place. Outgoing calls (the gateway, token refreshes,
 * tool listings) happen after the commit.
 */
export function createMessageAdmission(deps: MessageAdmissionDeps): MessageAdmission {
  /**
   * The session a message goes to, checked against its owner (decision 010): none given → a new
   * one of the caller's; a recorded one → by its owner. One nobody has recorded is decided after
   * the transaction, since that asks the gateway.
   */
  async function sessionIn(trx: TenantTransaction, access: TenantAccess, slug: string, requested: string | undefined): Promise<SessionStep> {
    if (requested === undefined) return { key: await deps.owners.startNewIn(trx, access.tenantId, slug, access.actor), fresh: true };
    const row = await deps.owners.lookUpIn(trx, access.tenantId, slug, requested);
    if (!row) return { unclaimed: requested };
    assertSessionAccess(access, relationOf(row, access.actor), sessionNotFound(requested));
    return { key: requested, fresh: false };
  }

  async function sessionExists(tenantId: string, slug: string, key: string): Promise<boolean> {
    try {
      await deps.gateway.getSession(tenantId, slug, key);
      return true;
    } catch (error) {
      if (error instanceof AppError && error.code === "session_not_found") return false;
      throw error;
    }
  }

  /**
   * A session nobody has claimed: the gateway does not know it → the caller's (of two concurrent
   * first messages, one wins); it started elsewhere (hooks, before ownership was recorded) → owners
   * and admins only, and it stays nobody's.
   */
  async function unclaimed(access: TenantAccess, slug: string, key: string): Promise<{ key: string; fresh: boolean }> {
    const row = (await sessionExists(access.tenantId, slug, key)) ? undefined : await deps.owners.claim(access.tenantId, slug, key, access.actor);
    assertSessionAccess(access, relationOf(row, access.actor), sessionNotFound(key));
    return { key, fresh: false };
  }

  return async (access, slug, requested) => {
    const { tenantId } = access;
    const place = await deps.streams.prepareStream(access.principal, tenantId);
    let read;
    try {
      read = await withSystemThenTenant(
        deps.system,
        tenantId,
        (trx) => place.take(trx),
        async (trx) => {
          const session = await sessionIn(trx, access, slug, requested);
          const integrations = await deps.integrations?.readIn(trx, tenantId, slug);
          return { session, integrations };
        },
      );
    } catch (error) {
      place.rolledBack();
      throw error;
    }
    const lease = place.committed();
    const step = read.session;
    try {
      const session = "unclaimed" in step ? await unclaimed(access, slug, step.unclaimed) : step;
      return { lease, session, integrations: await read.integrations?.finish() };
    } catch (error) {
      void lease.release().catch((releaseError: unknown) => deps.logError("could not release a stream lease (it expires on its own)", releaseError));
      if ("fresh" in step && step.fresh) await deps.owners.forget(tenantId, slug, step.key);
      throw error;
    }
  };
}
