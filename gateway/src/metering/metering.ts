import { AppError, USAGE_APPROVAL_INPUT_MAX_CHARS, type PendingApproval, type UsageApproval, type UsageRecord } from "@workforce/protocol";
import { KeyedLock } from "../fs/keyed-lock";
import type { Logger } from "../logger";
import type { Admission, AdmissionRequest, EndedRun } from "../runs/admission";
import type { TenantPolicies } from "../tenants/tenant-policy";
import type { UsageJournal } from "./usage-journal";

/** How long a run refused only because of other runs' reservations is told to wait (Retry-After). */
export const RESERVATION_RETRY_SECONDS = 2;

export interface MeteringOptions {
  journal: UsageJournal;
  policies: Pick<TenantPolicies, "get">;
  now: () => Date;
  logger: Logger;
  /**
   * Output tokens reserved per run on top of the message's own estimate: the agent loop's
   * maximum output per model call. See `estimateRunTokens`.
   */
  maxOutputTokens: number;
  /** Tenants whose month is kept in memory; idle ones beyond this are dropped (and read again when needed). */
  maxTenants?: number;
}

export interface TenantUsageView {
  /** Tokens of runs that ended this calendar month (UTC), from every gateway's journal lines read so far plus this gateway's own. */
  usedTokens: number;
  /** Tokens reserved by this gateway's runs still in flight. */
  reservedTokens: number;
  runsInFlight: number;
}

export interface Metering {
  /**
   * The admission step (RunManagerDeps.admit): refuses a run of a tenant over its monthly token
   * budget (429 budget_exceeded), reserves its estimate, and on its end journals its usage and
   * settles the reservation with what it used.
   */
  admit(request: AdmissionRequest): Promise<Admission>;
  /** The tenant's month as this gateway sees it, after reading what other gateways journaled. */
  usage(tenantId: string): Promise<TenantUsageView>;
  /** Waits for the journal writes in progress (shutdown; tests that look at the files). */
  flush(): Promise<void>;
}

/**
 * What a run is expected to cost before it runs: its message (≈4 characters per token) plus one
 * model call's maximum output. It is not a worst case (a long history is input too, and a run
 * with tool calls makes several model calls); it keeps parallel sends from all passing one
 * check at once, and real usage replaces it when the run ends.
 */
export function estimateRunTokens(message: string, maxOutputTokens: number): number {
  return Math.ceil(message.length / 4) + maxOutputTokens;
}

interface TenantMonth {
  /** "2026-12": the calendar month (UTC) `usedTokens` counts. */
  month: string;
  usedTokens: number;
  /**
   * Run ids counted lately: a record journaled twice (a write retried after a partial failure)
   * counts once. Bounded (the newest COUNTED_WINDOW): a repeat follows its first close by in the
   * journal, and a set of every run of the month would grow with the tenant's traffic.
   */
  counted: Set<string>;
  /** Journal bytes read so far. */
  offset: number;
  reservedTokens: number;
  runsInFlight: number;
}

const monthOf = (iso: string) => iso.slice(0, 7);

/** How many recent run ids a tenant's month remembers to count repeats once. */
export const COUNTED_WINDOW = 4_096;

function nextMonthStart(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
}

/**
 * Metering and budgets in the gateway, so no entry point bypasses them (decision 015). Usage of
 * the month comes from the tenant's journal, read incrementally by byte offset (every gateway on
 * the data dir sees the others' runs), plus this gateway's reservations for runs in flight.
 *
 * The bound: a run is admitted when its estimate fits in what is left after usage and
 * reservations, or, with no run of the tenant in flight here, while any budget is left at all
 * (else a budget smaller than one estimate would refuse every run). So with one gateway the
 * month's usage passes the budget by at most one run's usage (the last one admitted), plus
 * whatever runs use beyond their estimate; with several gateways, by up to one run per gateway.
 */
export function createMetering(options: MeteringOptions): Metering {
  const months = new Map<string, TenantMonth>();
  const refreshes = new KeyedLock();
  const maxTenants = options.maxTenants ?? 10_000;

  function monthFor(tenantId: string, now: Date): TenantMonth {
    const month = monthOf(now.toISOString());
    let state = months.get(tenantId);
    if (!state) {
      state = { month, usedTokens: 0, counted: new Set(), offset: 0, reservedTokens: 0, runsInFlight: 0 };
      months.set(tenantId, state);
      evictIdle();
    } else if (state.month !== month) {
      // A new month: nothing used yet; lines already read belong to the old one.
      state.month = month;
      state.usedTokens = 0;
      state.counted = new Set();
    }
    return state;
  }

  function evictIdle(): void {
    for (const [tenantId, state] of months) {
      if (months.size <= maxTenants) return;
      if (state.runsInFlight === 0) months.delete(tenantId);
    }
  }

  function count(state: TenantMonth, record: Pick<UsageRecord, "runId" | "endedAt" | "inputTokens" | "outputTokens">): void {
    if (monthOf(record.endedAt) !== state.month || state.counted.has(record.runId)) return;
    state.counted.add(record.runId);
    if (state.counted.size > COUNTED_WINDOW) state.counted.delete(state.counted.values().next().value as string);
    state.usedTokens += record.inputTokens + record.outputTokens;
  }

  /** Reads what was journaled since the last read (by any gateway). One stat when nothing was. */
  function refresh(tenantId: string): Promise<TenantMonth> {
    return refreshes.run(tenantId, async () => {
      const state = monthFor(tenantId, options.now());
      let size = await options.journal.size(tenantId);
      if (size < state.offset) {
        // The journal was replaced (the tenant was erased and used again): count it afresh.
        state.offset = 0;
        state.usedTokens = 0;
        state.counted = new Set();
      }
      while (state.offset < size) {
        const page = await options.journal.read(tenantId, state.offset);
        for (const entry of page.entries) count(state, entry.record);
        if (page.next === state.offset) break; // only a line still being written is left
        state.offset = page.next;
        size = page.size;
      }
      return state;
    });
  }

  function refuse(state: TenantMonth, limit: number, now: Date): AppError {
    if (state.usedTokens >= limit) {
      const next = nextMonthStart(now);
      return new AppError(
        "budget_exceeded",
        `This organisation's monthly token budget is used up (${state.usedTokens} of ${limit} tokens this month); ` +
          `runs resume on ${next.toISOString()}, or sooner if the budget is raised`,
        { status: 429, retryable: false, headers: { "retry-after": String(Math.max(1, Math.ceil((next.getTime() - now.getTime()) / 1000))) } },
      );
    }
    return new AppError(
      "budget_exceeded",
      `This organisation's monthly token budget is nearly used up (${state.usedTokens} of ${limit} tokens used, ${state.reservedTokens} reserved ` +
        `by ${state.runsInFlight} run(s) in progress); try again in a few seconds, when they have ended`,
      { status: 429, retryable: true, headers: { "retry-after": String(RESERVATION_RETRY_SECONDS) } },
    );
  }

  return {
    async admit(request) {
      const policy = request.policy ?? (await options.policies.get(request.tenantId));
      const limit = policy.limits.monthlyTokens;
      // Without a budget there is nothing to check: the journal is read only when one is set.
      const state = limit === null ? monthFor(request.tenantId, options.now()) : await refresh(request.tenantId);
      const estimate = estimateRunTokens(request.message, options.maxOutputTokens);
      // Synchronous from here on: the check and the reservation are one step for parallel sends.
      if (limit !== null) {
        const fits = state.usedTokens + state.reservedTokens + estimate <= limit;
        const alone = state.runsInFlight === 0 && state.usedTokens < limit;
        if (!fits && !alone) throw refuse(state, limit, options.now());
      }
      state.reservedTokens += estimate;
      state.runsInFlight += 1;
      let held = true;
      const settle = () => {
        if (!held) return;
        held = false;
        // A state with a run in flight is never evicted, so this is still the tenant's.
        state.reservedTokens -= estimate;
        state.runsInFlight -= 1;
      };
      return {
        release: settle,
        async ended(run: EndedRun) {
          settle();
          const record = usageRecordOf(run);
          count(state, record);
          await options.journal.append(run.tenantId, record);
        },
      };
    },

    async usage(tenantId) {
      const state = await refresh(tenantId);
      return { usedTokens: state.usedTokens, reservedTokens: state.reservedTokens, runsInFlight: state.runsInFlight };
    },

    flush: () => options.journal.flush(),
  };
}

/** The journal line of an ended run. */
export function usageRecordOf(run: EndedRun): UsageRecord {
  return {
    runId: run.runId,
    agent: run.agent,
    sessionKey: run.sessionKey,
    source: run.origin.source,
    ...(run.origin.userId === undefined ? {} : { userId: run.origin.userId }),
    ...(run.origin.apiKeyId === undefined ? {} : { apiKeyId: run.origin.apiKeyId }),
    model: run.model.id,
    status: run.status,
    inputTokens: run.usage.inputTokens,
    outputTokens: run.usage.outputTokens,
    queuedAt: run.queuedAt,
    endedAt: run.endedAt,
    ...(run.keySource === undefined ? {} : { keySource: run.keySource }),
    ...(run.origin.trigger === undefined ? {} : { trigger: run.origin.trigger }),
    ...(run.heartbeat === undefined ? {} : { heartbeat: run.heartbeat }),
    ...(run.approval ? { approval: usageApproval(run.approval) } : {}),
    ...(run.resumes
      ? { resumes: { approvalId: run.resumes.approvalId, decision: run.resumes.decision, ...(run.resumes.timedOut ? { timedOut: true } : {}) } }
      : {}),
  };
}

/**
 * A paused run's approval as its journal line carries it: the arguments whole when their JSON is
 * short, else the start of that JSON as a string, marked truncated (a journal line stays small;
 * the session's history has them whole).
 */
export function usageApproval(pending: PendingApproval): UsageApproval {
  const json = JSON.stringify(pending.input) ?? "null";
  const truncated = json.length > USAGE_APPROVAL_INPUT_MAX_CHARS;
  return {
    id: pending.approvalId,
    toolCallId: pending.toolCallId,
    tool: pending.name,
    input: truncated ? json.slice(0, USAGE_APPROVAL_INPUT_MAX_CHARS) : (pending.input ?? null),
    ...(truncated ? { inputTruncated: true } : {}),
    requestedAt: pending.requestedAt,
  };
}
