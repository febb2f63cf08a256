import { AppError, SEARCH_MARK_START, SEARCH_MARK_STOP, type SessionHistory, type SessionSummary, type UsageRecord } from "@workforce/protocol";
import { z } from "zod";
import { assertWithinBudget } from "../budgets";
import type { Database, TenantTransaction } from "../db/schema";
import { withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";
import type { RunIntegrationsResolver } from "../integrations/run-integrations";
import type { IngestReaction } from "../tenancy/usage-ingest";
import { enqueueJob, type JobRunner } from "../jobs/job-queue";

/** The job that brings a session's title and messages into `session_search` after a run of it ended. */
export const SESSION_INDEX_JOB = "session.index";
/** The most of a session's text kept for search (characters): beyond this, its latest messages are searched. */
export const INDEXED_BODY_MAX = 200_000;

/** `title: false`: index only (a heartbeat's session: one rolling session the system named, never titled by the model). */
const IndexPayload = z.object({ agent: z.string().min(1).max(200), sessionKey: z.string().min(1).max(200), title: z.boolean().optional() });

/**
 * Queues indexing for every run the usage ingest sees end (issue 16, decision 043), in the
 * transaction that ingests its record: a run is indexed exactly when it is counted, whatever
 * started it, and a crash before the job ran leaves the job to run. One job per session per ingest
 * batch (issue 17: a busy chat's runs read in one batch used to cost a job each), keyed by the
 * session's last run in the batch; each job reads the whole session after the batch committed, so
 * it sees every run of the batch, and a job that runs twice or late writes the same row.
 */
export function sessionIndexReaction(now: () => Date): IngestReaction {
  return async (trx, tenantId, records: readonly UsageRecord[]) => {
    const sessions = new Map<string, { agent: string; sessionKey: string; runId: string; title: boolean }>();
    for (const record of records) {
      if (record.trigger?.kind === "title") continue; // the title step's own metering: the session is being indexed already
      const id = JSON.stringify([record.agent, record.sessionKey]);
      // A heartbeat's session is never titled by the model; any other run in the batch may title it.
      const title = record.trigger?.kind !== "heartbeat" || sessions.get(id)?.title === true;
      sessions.delete(id); // re-inserted last: jobs are queued in the order the sessions last ran
      sessions.set(id, { agent: record.agent, sessionKey: record.sessionKey, runId: record.runId, title });
    }
    for (const session of sessions.values()) {
      await enqueueJob(trx, {
        kind: SESSION_INDEX_JOB,
        tenantId,
        key: `${tenantId}:${session.runId}`,
        payload: { agent: session.agent, sessionKey: session.sessionKey, ...(session.title ? {} : { title: false }) },
        runAt: now(),
      });
    }
  };
}

/** The searchable text of a session: its messages' text blocks, newest kept when it is long; the search marks never occur in it. */
export function searchableText(history: SessionHistory): string {
  const parts: string[] = [];
  for (const entry of history.entries) {
    if (entry.type !== "user" && entry.type !== "assistant") continue;
    const text = entry.content.flatMap((block) => (block.type === "text" ? [block.text] : [])).join("");
    if (text.trim()) parts.push(text);
  }
  const body = parts.join("\n\n").replaceAll(SEARCH_MARK_START, " ").replaceAll(SEARCH_MARK_STOP, " ");
  return body.length > INDEXED_BODY_MAX ? body.slice(body.length - INDEXED_BODY_MAX) : body;
}

/** Writes a session's row; a row of more messages (a later run's, read before this one) is not replaced by an older read. */
export async function writeSearchRow(trx: TenantTransaction, tenantId: string, agent: string, session: SessionSummary, body: string | undefined, now: Date): Promise<void> {
  const known = await trx.selectFrom("agents").select("slug").where("tenant_id", "=", tenantId).where("slug", "=", agent).executeTakeFirst();
  if (!known) return; // an agent the platform no longer has: its sessions are not searched
  if (body === undefined) {
    // A rename: the title only; a session never indexed yet is indexed by its next run.
    await trx.updateTable("session_search").set({ title: session.title, indexed_at: now }).where("tenant_id", "=", tenantId).where("agent_slug", "=", agent).where("session_key", "=", session.key).execute();
    return;
  }
  await trx
    .insertInto("session_search")
    .values({ tenant_id: tenantId, agent_slug: agent, session_key: session.key, title: session.title, body, message_count: session.messageCount, session_updated_at: session.updatedAt, indexed_at: now })
    .onConflict((conflict) =>
      conflict
        .columns(["tenant_id", "agent_slug", "session_key"])
        .doUpdateSet((update) => ({
          title: update.ref("excluded.title"),
          body: update.ref("excluded.body"),
          message_count: update.ref("excluded.message_count"),
          session_updated_at: update.ref("excluded.session_updated_at"),
          indexed_at: update.ref("excluded.indexed_at"),
        }))
        .where("session_search.message_count", "<=", (eb) => eb.ref("excluded.message_count")),
    )
    .execute();
}

/** Forgets a session (deleted, or gone from the gateway). */
export async function forgetSearchRow(trx: TenantTransaction, tenantId: string, agent: string, sessionKey: string): Promise<void> {
  await trx.deleteFrom("session_search").where("tenant_id", "=", tenantId).where("agent_slug", "=", agent).where("session_key", "=", sessionKey).execute();
}

export interface SessionIndexDeps {
  db: Database;
  gateway: Pick<GatewayClient, "getSession" | "titleSession">;
  integrations?: RunIntegrationsResolver | undefined;
  now: () => Date;
}

/**
 * The `session.index` job: reads the session from the gateway, names it after its first exchange
 * when nobody has (the model's title when the organisation is within its budget, else the
 * fallback; never over the user's), and writes its search row. A gateway that cannot be reached
 * throws, so the job is tried again with backoff; a session or agent that is gone is forgotten.
 */
export function registerSessionIndexing(jobs: Pick<JobRunner, "register">, deps: SessionIndexDeps): void {
  async function titled(tenantId: string, agent: string, session: SessionSummary): Promise<SessionSummary> {
    if (session.titleSource === "user" || session.titleSource === "generated" || session.messageCount < 2) return session;
    const owner = await withTenant(deps.db, tenantId, (trx) =>
      trx.selectFrom("session_owners").select(["user_id", "api_key_id"]).where("tenant_id", "=", tenantId).where("agent_slug", "=", agent).where("session_key", "=", session.key).executeTakeFirst(),
    );
    const useModel = await assertWithinBudget(deps.db, tenantId, deps.now()).then(
      () => true,
      (error: unknown) => {
        if (error instanceof AppError && error.code === "budget_exceeded") return false;
        throw error;
      },
    );
    const integrations = useModel ? await deps.integrations?.forRun(tenantId, agent) : undefined;
    const actor = { ...(owner?.user_id ? { userId: owner.user_id } : {}), ...(owner?.api_key_id ? { apiKeyId: owner.api_key_id } : {}) };
    const result = await deps.gateway.titleSession(tenantId, agent, session.key, { useModel, ...(integrations ? { integrations } : {}) }, actor);
    return result.session;
  }

  jobs.register(SESSION_INDEX_JOB, async (job) => {
    const tenantId = job.tenantId;
    const payload = IndexPayload.safeParse(job.payload);
    if (!tenantId || !payload.success) return; // not a job this code wrote: nothing to do
    const { agent, sessionKey, title } = payload.data;
    let history: SessionHistory;
    try {
      history = await deps.gateway.getSession(tenantId, agent, sessionKey);
    } catch (error) {
      if (error instanceof AppError && (error.code === "session_not_found" || error.code === "agent_not_found")) {
        await withTenant(deps.db, tenantId, (trx) => forgetSearchRow(trx, tenantId, agent, sessionKey));
        return;
      }
      throw error;
    }
    const session = title === false ? history.session : await titled(tenantId, agent, history.session);
    await withTenant(deps.db, tenantId, (trx) => writeSearchRow(trx, tenantId, agent, session, searchableText(history), deps.now()));
  });
}
