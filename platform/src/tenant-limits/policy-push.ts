import { AppError, type EffectiveTenantPolicy, type TenantPolicy } from "@workforce/protocol";
import { sql } from "kysely";
import type { SystemDatabase, SystemTransaction, TenantTransaction } from "../db/schema";
import { withSystem } from "../db/scopes";
import { readLimitInputs, tenantPolicy, type TenantLimitDefaults } from "./tenant-limits";

/**
 * Records, in the transaction of the change itself, that an organisation's policy changed (its
 * limits, budget or suspension, or it was just created). The version is the database's clock in
 * milliseconds, and always above the previous one, so it orders changes made by any process.
 */
export async function markPolicyChanged(trx: TenantTransaction | SystemTransaction, tenantId: string): Promise<void> {
  const clock = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;
  await trx
    .insertInto("tenant_policy_pushes")
    .values({ tenant_id: tenantId, version: clock as unknown as number })
    .onConflict((conflict) =>
      conflict.column("tenant_id").doUpdateSet({
        version: sql<number>`greatest(excluded.version, tenant_policy_pushes.version + 1)`,
        changed_at: sql<Date>`now()`,
      }),
    )
    .execute();
}

/** Where a push stands: pushed (the gateways hold it), pending (retried by the reconcile loop), or gone (no such organisation). */
export type PushOutcome =
  | { state: "pushed"; version: number }
  /** `unreachable`: the gateway is down (so are the others' pushes); else this organisation's policy was refused. */
  | { state: "pending"; version: number; error: string; unreachable: boolean }
  | { state: "gone" };

export interface PolicyPusherOptions {
  system: SystemDatabase;
  /** The gateway client's `putTenantPolicy`. */
  putPolicy: (tenantId: string, policy: TenantPolicy) => Promise<EffectiveTenantPolicy>;
  defaults: TenantLimitDefaults;
  logError: (message: string, error: unknown) => void;
  /** How often unpushed organisations are pushed again (2 s). */
  reconcileMs?: number;
  /** Organisations pushed per round. */
  batchSize?: number;
}

/** A gateway that is down or slow is expected (the loop retries); anything else is a bug worth a log line. */
const isUnavailable = (error: unknown) => error instanceof AppError && error.code === "gateway_unavailable";

/**
 * Pushes organisations' policies to the gateway (`PUT /v1/tenant/policy`), which keeps them in
 * the tenant's `limits.json` where every gateway on the data dir reads them. A push that fails
 * stays due in the database (version > pushed_version), and every platform process's reconcile
 * loop pushes it again, so a change reaches the gateways within seconds of their coming back.
 */
export function createPolicyPusher(options: PolicyPusherOptions) {
  const reconcileMs = options.reconcileMs ?? 2_000;
  const batchSize = options.batchSize ?? 50;
  const inFlight = new Set<Promise<unknown>>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  function track<T>(promise: Promise<T>): Promise<T> {
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    return promise;
  }

  async function pushOnce(tenantId: string): Promise<PushOutcome> {
    const prepared = await withSystem(options.system, async (trx) => {
      // The version first, then the inputs: under read committed a change committed in between
      // makes the content newer than its version (harmless: that change's own push follows), never older.
      // No row: the organisation is gone or being erased (its policy was withdrawn).
      const state = await trx.selectFrom("tenant_policy_pushes").select(["version", "last_error"]).where("tenant_id", "=", tenantId).executeTakeFirst();
      const inputs = state ? await readLimitInputs(trx, tenantId) : undefined;
      if (!state || !inputs) return undefined;
      const version = Number(state.version);
      return { policy: tenantPolicy(version, inputs, options.defaults), lastError: state.last_error };
    });
    if (!prepared) return { state: "gone" };
    const { policy } = prepared;
    try {
      await options.putPolicy(tenantId, policy);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (!isUnavailable(error) && message !== prepared.lastError) options.logError(`could not push the policy of organisation ${tenantId} to the gateway`, error);
      await withSystem(options.system, (trx) => trx.updateTable("tenant_policy_pushes").set({ last_error: message.slice(0, 500) }).where("tenant_id", "=", tenantId).execute());
      return { state: "pending", version: policy.version, error: message, unreachable: isUnavailable(error) };
    }
    await withSystem(options.system, (trx) =>
      trx
        .updateTable("tenant_policy_pushes")
        .set({ pushed_version: sql<number>`greatest(pushed_version, ${policy.version})`, pushed_at: sql<Date>`now()`, last_error: null })
        .where("tenant_id", "=", tenantId)
        .execute(),
    );
    return { state: "pushed", version: policy.version };
  }

  /** Organisations whose newest policy no gateway has accepted yet, oldest change first. */
  async function due(): Promise<string[]> {
    const rows = await withSystem(options.system, (trx) =>
      trx
        .selectFrom("tenant_policy_pushes")
        .select("tenant_id")
        .where(sql<boolean>`version > pushed_version`)
        .orderBy("changed_at")
        .limit(batchSize)
        .execute(),
    );
    return rows.map((row) => row.tenant_id);
  }

  async function reconcile(): Promise<number> {
    let pushed = 0;
    for (const tenantId of await due()) {
      const outcome = await pushOnce(tenantId);
      if (outcome.state === "pushed") pushed += 1;
      // The gateway is down: the rest would fail the same way; next round. A refusal of one
      // organisation's policy must not hold up the others.
      if (outcome.state === "pending" && outcome.unreachable) break;
    }
    return pushed;
  }

  function schedule(): void {
    if (!running) return;
    timer = setTimeout(() => {
      void track(reconcile())
        .catch((error: unknown) => options.logError("could not reconcile organisations' policies with the gateway", error))
        .finally(schedule);
    }, reconcileMs);
    timer.unref();
  }

  return {
    /** Pushes the organisation's current policy now; never throws (a failed push stays due). */
    push(tenantId: string): Promise<PushOutcome> {
      return track(
        pushOnce(tenantId).catch((error: unknown): PushOutcome => {
          options.logError(`could not push the policy of organisation ${tenantId}`, error);
          return { state: "pending", version: 0, error: error instanceof Error ? error.message : String(error), unreachable: false };
        }),
      );
    },
    /** One round of the loop: pushes what is due; the number pushed. */
    reconcile: () => track(reconcile()),
    /** Starts the loop (every `reconcileMs`). */
    start(): void {
      if (running) return;
      running = true;
      schedule();
    },
    /** Stops the loop and waits for pushes under way (call before closing the database). */
    async stop(): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

export type PolicyPusher = ReturnType<typeof createPolicyPusher>;
