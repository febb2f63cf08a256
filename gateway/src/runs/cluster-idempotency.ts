import { setTimeout as sleep } from "node:timers/promises";
import { AppError } from "@workforce/protocol";
import type { IdempotencyKey, IdempotencyKeys } from "../coordination/idempotency-keys";
import type { RunEventRelay, RemoteRun } from "./run-relay";
import type { SubmittedRun } from "./run-manager";

export interface ClusterIdempotencyDeps {
  keys: IdempotencyKeys;
  relay: RunEventRelay | undefined;
  /** The tenant's run with this id when this process has it (found before asking the relay). */
  local(tenantId: string, runId: string): SubmittedRun | undefined;
  /** How long a retry waits for another gateway's submit of the same key to publish its run. */
  waitMs: number;
  /** How long a kept key's run may stay unpublished before the key counts as stale (its run expired); default 2 s. */
  staleAfterMs?: number;
}

/** The shared-key steps of a submit, as the run manager takes them. */
export interface SharedKeys {
  /** The shared key of a send, or undefined without a key (or without a cluster). */
  keyOf(tenantId: string, agent: string, key: string | undefined): IdempotencyKey | undefined;
  /** See claimOrJoin. */
  claim(key: IdempotencyKey, runId: string): Promise<ClaimOutcome>;
  /** Keeps a claimed key for the run's life before it is queued; refuses the submit (409 conflict) when another one took the key meanwhile. */
  confirm(key: IdempotencyKey, runId: string): Promise<void>;
  ended(key: IdempotencyKey, runId: string): void;
  release(key: IdempotencyKey, runId: string): void;
}

export interface SharedKeysDeps extends Omit<ClusterIdempotencyDeps, "keys" | "waitMs"> {
  /** Undefined without a cluster: no send has a shared key. */
  keys: IdempotencyKeys | undefined;
  /** How long a key is kept once its run is queued (run timeout + retention) and after it ended (retention). */
  keptMs: number;
  endedMs: number;
}

export function sharedKeys(deps: SharedKeysDeps): SharedKeys {
  const { keys } = deps;
  return {
    keyOf: (tenantId, agent, key) => (key !== undefined && keys ? { tenantId, agent, key } : undefined),
    claim: async (key, runId) => (keys ? claimOrJoin({ ...deps, keys, waitMs: 35_000 }, key, runId) : { claimed: false }),
    async confirm(key, runId) {
      // Redis gone meanwhile (logged by the keys): the run goes on, its key kept on this gateway only.
      const confirmed = await keys?.confirm(key, runId, deps.keptMs).catch(() => undefined);
      if (confirmed && !confirmed.claimed) {
        throw new AppError("conflict", "another request with this idempotency key started its run meanwhile; send again to follow it", { retryable: true });
      }
    },
    ended: (key, runId) => keys?.ended(key, runId, deps.endedMs),
    release: (key, runId) => keys?.release(key, runId),
  };
}

/** What a submit with an idempotency key does: start its run (the key is ours), or follow the one another request started. */
export type ClaimOutcome = { claimed: boolean } | { joined: SubmittedRun };

/** A run another gateway executes, as submit and locate answer it. */
export function remoteRunHandle(relay: RunEventRelay | undefined, tenantId: string, found: RemoteRun): SubmittedRun {
  const { info } = found;
  return {
    runId: info.runId,
    sessionKey: info.sessionKey,
    info: () => info,
    events: found,
    abort: async () => {
      await relay?.requestAbort(tenantId, info.runId);
      return info;
    },
  };
}

/**
 * Claims `key` for the run about to be submitted, or finds the run that holds it: here, or through
 * the relay on another gateway. A run still being submitted elsewhere (claimed, not yet published)
 * is waited for; a key whose run stays gone (expired from the relay) is taken over: not at once,
 * as the relay publishes a new run on its own connection, after its key was kept. Redis unreachable:
 * `{ claimed: false }`, and the submit goes on with this process's keys only (never stalls a run).
 */
export async function claimOrJoin(deps: ClusterIdempotencyDeps, key: IdempotencyKey, runId: string): Promise<ClaimOutcome> {
  const deadline = Date.now() + deps.waitMs;
  const staleAfterMs = deps.staleAfterMs ?? 2_000;
  let stale: string | undefined;
  let missing: { runId: string; since: number } | undefined;
  let delayMs = 5;
  for (;;) {
    let claim;
    try {
      claim = await deps.keys.claim(key, runId, stale);
    } catch {
      return { claimed: false }; // logged by the keys
    }
    if (claim.claimed) return { claimed: true };
    const local = deps.local(key.tenantId, claim.runId);
    if (local) return { joined: local };
    let found: RemoteRun | undefined;
    try {
      found = await deps.relay?.find(key.tenantId, claim.runId);
    } catch {
      throw new AppError("gateway_unavailable", "a run with this idempotency key exists on another gateway, which cannot be reached now", { retryable: true });
    }
    if (found) return { joined: remoteRunHandle(deps.relay, key.tenantId, found) };
    // Still being submitted: wait for it. Kept but not in the relay for a while: it ended and expired, a new run may take the key.
    if (missing?.runId !== claim.runId) missing = { runId: claim.runId, since: Date.now() };
    stale = !claim.pending && Date.now() - missing.since >= staleAfterMs ? claim.runId : undefined;
    if (Date.now() > deadline) {
      throw new AppError("gateway_unavailable", "a request with this idempotency key is still being accepted by another gateway; try again shortly", { retryable: true });
    }
    if (stale === undefined) {
      await sleep(delayMs);
      delayMs = Math.min(delayMs * 2, 200);
    }
  }
}
