import { AppError, UUID_PATTERN, type UsageJournalEntry, type UsageRecord } from "@workforce/protocol";
import { sql } from "kysely";
import type { Database, SystemDatabase, TenantTransaction } from "../db/schema";
import { withSystem, withTenant } from "../db/scopes";
import type { GatewayClient } from "../gateway-client";

/** Tenants asked about per `POST /v1/usage/pending` (the gateway's limit). */
const PENDING_BATCH = 1_000;
/** Journal pages read per tenant per sync; what is left is read by the next one. */
const MAX_PAGES = 50;

export interface UsageIngestOptions {
  db: Database;
  system: SystemDatabase;
  gateway: Pick<GatewayClient, "usageJournal" | "usagePending">;
  logError: (message: string, error: unknown) => void;
  /** How often `start` ingests every tenant's new usage. */
  intervalMs: number;
  /**
   * What else follows from ended runs (issue 15: run events, schedule firings' outcomes, approvals,
   * heartbeat alerts): each runs in the page's transaction, so it happens exactly once per record.
   */
  reactions?: readonly IngestReaction[];
}

/** Reacts to a page of journal records inside the transaction that ingests them. */
export type IngestReaction = (trx: TenantTransaction, tenantId: string, records: readonly UsageRecord[]) => Promise<void>;

export interface UsageIngest {
  /** Ingests what the tenant's journal holds past the cursor; never throws (usage is then read as ingested so far). */
  sync(tenantId: string): Promise<void>;
  /** Asks the gateway which tenants have new usage and ingests theirs. */
  syncAll(): Promise<void>;
  /** Runs `syncAll` every `intervalMs` until `stop`. */
  start(): void;
  stop(): Promise<void>;
}

/** A tenant's ingestion under way in this process, and the one that follows it (when a sync was asked for meanwhile). */
interface Ingesting {
  done: Promise<void>;
  following: Promise<void> | undefined;
}

const noop = () => undefined;

/** Another platform process advanced the cursor first: this transaction's inserts are rolled back. */
class CursorMoved extends Error {}

/**
 * Brings the gateway's usage journals into `usage_events` (decision 015). Every run any gateway
 * executed is there, whatever its entry point and whether or not a browser was listening. Each
 * page of records is inserted and the tenant's cursor advanced in ONE transaction, so a crash
 * on either side repeats nothing and loses nothing; rows are unique by (tenant, run), so the
 * platform's own recording at a stream's end and a journal read twice count once.
 */
export function createUsageIngest(options: UsageIngestOptions): UsageIngest {
  const running = new Map<string, Ingesting>();
  let timer: NodeJS.Timeout | undefined;
  let sweep: Promise<void> | undefined;
  let failing = false;

  async function readCursor(tenantId: string): Promise<number> {
    return withTenant(options.db, tenantId, async (trx) => {
      const row = await trx.selectFrom("usage_ingest_cursors").select("journal_offset").where("tenant_id", "=", tenantId).executeTakeFirst();
      return Number(row?.journal_offset ?? 0);
    });
  }

  /** The user and API key ids of these records that exist in the tenant; others are recorded as nobody. */
  async function knownActors(trx: TenantTransaction, entries: readonly UsageJournalEntry[]): Promise<{ users: Set<string>; keys: Set<string> }> {
    const userIds = [...new Set(entries.flatMap((entry) => (entry.record.userId && UUID_PATTERN.test(entry.record.userId) ? [entry.record.userId] : [])))];
    const keyIds = [...new Set(entries.flatMap((entry) => (entry.record.apiKeyId && UUID_PATTERN.test(entry.record.apiKeyId) ? [entry.record.apiKeyId] : [])))];
    const users = userIds.length > 0 ? await trx.selectFrom("users").select("id").where("id", "in", userIds).execute() : [];
    const keys = keyIds.length > 0 ? await trx.selectFrom("api_keys").select("id").where("id", "in", keyIds).execute() : [];
    return { users: new Set(users.map((row) => row.id)), keys: new Set(keys.map((row) => row.id)) };
  }

  /** One page: insert its records and move the cursor from `from` to `to`, or neither. */
  async function commitPage(tenantId: string, entries: readonly UsageJournalEntry[], from: number, to: number): Promise<void> {
    await withTenant(options.db, tenantId, async (trx) => {
      if (entries.length > 0) {
        const known = await knownActors(trx, entries);
        await trx
          .insertInto("usage_events")
          .values(
            entries.map(({ record }) => ({
              tenant_id: tenantId,
              user_id: record.userId && known.users.has(record.userId) ? record.userId : null,
              api_key_id: record.apiKeyId && known.keys.has(record.apiKeyId) ? record.apiKeyId : null,
              agent_slug: record.agent,
              run_id: record.runId,
              status: record.status,
              input_tokens: record.inputTokens,
              output_tokens: record.outputTokens,
              created_at: new Date(record.endedAt),
              key_source: record.keySource ?? null,
            })),
          )
          // The chat route's recorder may have written the run first, without knowing whose key it used: the journal says.
          .onConflict((conflict) =>
            conflict
              .columns(["tenant_id", "run_id"])
              .doUpdateSet((update) => ({ key_source: update.ref("excluded.key_source") }))
              .where("usage_events.key_source", "is", null)
              .where(sql<boolean>`excluded.key_source is not null`),
          )
          .execute();
      }
      for (const react of options.reactions ?? []) await react(trx, tenantId, entries.map((entry) => entry.record));
      const moved = await trx
        .insertInto("usage_ingest_cursors")
        .values({ tenant_id: tenantId, journal_offset: to, updated_at: new Date() })
        .onConflict((conflict) =>
          conflict
            .column("tenant_id")
            .doUpdateSet({ journal_offset: to, updated_at: new Date() })
            .where("usage_ingest_cursors.journal_offset", "=", from),
        )
        .executeTakeFirst();
      if (Number(moved.numInsertedOrUpdatedRows ?? 0n) === 0) throw new CursorMoved();
    });
  }

  async function ingest(tenantId: string): Promise<void> {
    for (let pages = 0; pages < MAX_PAGES; pages += 1) {
      const cursor = await readCursor(tenantId);
      const page = await options.gateway.usageJournal(tenantId, cursor);
      if (page.next === cursor) return;
      try {
        await commitPage(tenantId, page.entries, cursor, page.next);
      } catch (error) {
        if (error instanceof CursorMoved) continue; // read again from where the other process got to
        throw error;
      }
      if (page.next >= page.size) return;
    }
  }

  /**
   * One ingestion per tenant at a time in this process. A sync asked for while one runs needs one
   * that starts after it was asked: ONE more ingestion follows the running one and serves every
   * sync asked for meanwhile. (Each running after the other made a budget check at c=100 wait for
   * ~100 ingestions in a row: seconds.)
   */
  function syncTenant(tenantId: string): Promise<void> {
    const busy = running.get(tenantId);
    if (busy?.following) return busy.following;
    const slot: Ingesting = { done: Promise.resolve(), following: undefined };
    slot.done = (busy ? busy.done.then(noop, noop) : Promise.resolve()).then(() => {
      running.set(tenantId, slot);
      return ingest(tenantId);
    });
    if (busy) busy.following = slot.done;
    else running.set(tenantId, slot);
    slot.done
      .finally(() => {
        if (running.get(tenantId) === slot && slot.following === undefined) running.delete(tenantId);
      })
      .catch(noop);
    return slot.done;
  }

  async function syncAll(): Promise<void> {
    const cursors = await withSystem(options.system, (trx) =>
      trx
        .selectFrom("tenants")
        .leftJoin("usage_ingest_cursors", "usage_ingest_cursors.tenant_id", "tenants.id")
        .select(["tenants.id as tenantId", "usage_ingest_cursors.journal_offset as offset"])
        .orderBy("tenants.id")
        .execute(),
    );
    for (let start = 0; start < cursors.length; start += PENDING_BATCH) {
      const batch = cursors.slice(start, start + PENDING_BATCH).map((row) => ({ tenantId: row.tenantId, after: Number(row.offset ?? 0) }));
      for (const { tenantId } of await options.gateway.usagePending(batch)) await syncTenant(tenantId);
    }
  }

  return {
    async sync(tenantId) {
      try {
        await syncTenant(tenantId);
      } catch (error) {
        // Usage is then read as ingested so far; the periodic sync reports a gateway that stays away.
        if (!(error instanceof AppError)) options.logError(`could not ingest the usage journal of tenant ${tenantId}`, error);
      }
    },

    syncAll,

    start() {
      if (timer) return;
      timer = setInterval(() => {
        if (sweep) return;
        sweep = syncAll()
          .then(() => {
            failing = false;
          })
          .catch((error: unknown) => {
            if (!failing) options.logError("could not ingest usage from the gateway; will retry", error);
            failing = true;
          })
          .finally(() => {
            sweep = undefined;
          });
      }, options.intervalMs);
      timer.unref();
    },

    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await sweep;
    },
  };
}
