import { AppError } from "@workforce/protocol";

/** A tenant's share of this gateway, from its policy (pushed by the platform, or the gateway's defaults). */
export interface TenantSchedule {
  /** The tenant's runs executing at once; the rest wait in its queue. */
  maxConcurrentRuns: number;
  /** The tenant's runs waiting; more get 429 tenant_queue_full. */
  maxQueuedRuns: number;
}

export interface SchedulerOptions<Run> {
  /** Runs executing at once across all tenants (WORKFORCE_MAX_CONCURRENT_RUNS). */
  maxConcurrentRuns: number;
  /** Runs waiting behind the active one in a single session; more get queue_full. */
  maxQueuedPerSession: number;
  /** Runs waiting across the whole gateway; more get too_many_runs (the last resort). */
  maxQueuedTotal: number;
  tenantOf(run: Run): string;
  /** The run's session (unique across tenants); one run per session executes at a time. */
  sessionOf(run: Run): string;
  /** Starts a run the scheduler picked; `finished` must be called once it has ended. */
  start(run: Run): void;
}

/** A place held for a run between its admission checks and its queueing (opening its session is async). */
export interface Reservation<Run> {
  /** Queues the run in the reserved place and starts what can start. */
  enqueue(run: Run): void;
  /** Gives the place back (the submit failed). */
  cancel(): void;
}

export interface Scheduler<Run> {
  /**
   * Checks the tenant's, the session's and the gateway's queue bounds and holds a place: throws
   * 429 tenant_queue_full, queue_full or too_many_runs when the run would have to wait and
   * there is no room. `session` is given when the run joins an existing session key.
   */
  reserve(tenantId: string, schedule: TenantSchedule, session?: string): Reservation<Run>;
  /** A newer policy for the tenant: a raised cap starts waiting runs at once. */
  update(tenantId: string, schedule: TenantSchedule): void;
  /** A started run ended: frees its tenant slot and its session, and starts the next runs. */
  finished(run: Run): void;
  /** Takes a waiting run out of its queue (aborted before it started); false if it was not waiting. */
  withdraw(run: Run): boolean;
  /** Every waiting run, tenant by tenant. */
  waiting(): Run[];
  /** Runs of the tenant executing and waiting. */
  load(tenantId: string): { active: number; waiting: number };
  /** Runs executing and waiting, for every tenant that has any (metrics read it at each scrape). */
  loads(): TenantLoad[];
}

export interface TenantLoad {
  tenantId: string;
  active: number;
  waiting: number;
}

/** How long a refused sender is told to wait: a few runs' time, not a promise. */
export const TENANT_QUEUE_RETRY_AFTER_SECONDS = 5;

interface TenantState<Run> {
  queue: Run[];
  active: number;
  /** Submits between reserve and enqueue/cancel. */
  reserved: number;
  schedule: TenantSchedule;
  /** When the tenant last got a slot (a tick); 0 for a tenant not served since it was idle. */
  servedAt: number;
}

/**
 * Fair scheduling of runs across tenants on one gateway. Each tenant has its own queue and
 * concurrency cap; when slots are scarce they go round-robin to tenants with a run that can
 * start (the one served longest ago first), so one tenant's flood waits in its own queue
 * while other tenants' runs start at once. Within a tenant runs start in arrival order, except
 * that a run waiting for its busy session (one active run per session) never blocks the
 * tenant's other sessions.
 */
export function createScheduler<Run>(options: SchedulerOptions<Run>): Scheduler<Run> {
  /** Tenants with runs executing, waiting or reserved. */
  const tenants = new Map<string, TenantState<Run>>();
  const busySessions = new Set<string>();
  const waitingPerSession = new Map<string, number>();
  let active = 0;
  let waitingTotal = 0;
  let reservedTotal = 0;
  let pumping = false;
  let tick = 0;

  function stateOf(tenantId: string, schedule: TenantSchedule): TenantState<Run> {
    let state = tenants.get(tenantId);
    if (!state) {
      state = { queue: [], active: 0, reserved: 0, schedule, servedAt: 0 };
      tenants.set(tenantId, state);
    }
    state.schedule = schedule;
    return state;
  }

  function forgetIfIdle(tenantId: string, state: TenantState<Run>): void {
    if (state.queue.length === 0 && state.active === 0 && state.reserved === 0) tenants.delete(tenantId);
  }

  function countSession(session: string, delta: number): void {
    const count = (waitingPerSession.get(session) ?? 0) + delta;
    if (count > 0) waitingPerSession.set(session, count);
    else waitingPerSession.delete(session);
  }

  /** The tenant's first waiting run whose session is free, or -1. */
  function startableIndex(state: TenantState<Run>): number {
    if (state.active >= state.schedule.maxConcurrentRuns) return -1;
    return state.queue.findIndex((run) => !busySessions.has(options.sessionOf(run)));
  }

  /**
   * Starts runs while global slots are free: each slot goes to the tenant, among those with a run
   * that can start, that was served longest ago (round-robin; ties in order of arrival).
   */
  function pump(): void {
    if (pumping) return;
    pumping = true;
    try {
      while (active < options.maxConcurrentRuns) {
        let picked: { state: TenantState<Run>; index: number } | undefined;
        for (const state of tenants.values()) {
          if (picked && picked.state.servedAt <= state.servedAt) continue;
          const index = startableIndex(state);
          if (index >= 0) picked = { state, index };
        }
        if (!picked) return;
        const { state, index } = picked;
        const [run] = state.queue.splice(index, 1);
        if (run === undefined) return;
        tick += 1;
        state.servedAt = tick;
        const session = options.sessionOf(run);
        countSession(session, -1);
        waitingTotal -= 1;
        busySessions.add(session);
        state.active += 1;
        active += 1;
        options.start(run);
      }
    } finally {
      pumping = false;
    }
  }

  return {
    reserve(tenantId, schedule, session) {
      const state = stateOf(tenantId, schedule);
      const held = state.queue.length + state.reserved;
      // Runs that would wait ahead of this one: places held beyond the tenant's free slots
      // (maxQueuedRuns 0: a tenant runs up to its cap and nothing waits).
      const ahead = held - Math.max(0, schedule.maxConcurrentRuns - state.active);
      if (ahead >= schedule.maxQueuedRuns) {
        forgetIfIdle(tenantId, state);
        throw new AppError(
          "tenant_queue_full",
          `this organisation already has ${state.active} runs executing and ${held} waiting on this gateway (its limit is ${schedule.maxQueuedRuns} waiting); try again in a few seconds`,
          { retryable: true, headers: { "retry-after": String(TENANT_QUEUE_RETRY_AFTER_SECONDS) } },
        );
      }
      if (session !== undefined) {
        const queued = waitingPerSession.get(session) ?? 0;
        if (queued >= options.maxQueuedPerSession) {
          forgetIfIdle(tenantId, state);
          throw new AppError("queue_full", `this session already has ${queued} messages waiting; wait for them to finish`, { retryable: true });
        }
      }
      if (waitingTotal + reservedTotal >= options.maxQueuedTotal) {
        forgetIfIdle(tenantId, state);
        throw new AppError("too_many_runs", "the gateway has too many runs waiting; try again shortly", { retryable: true });
      }
      state.reserved += 1;
      reservedTotal += 1;
      let settled = false;
      const settle = () => {
        if (settled) throw new Error("a reservation is used once");
        settled = true;
        state.reserved -= 1;
        reservedTotal -= 1;
      };
      return {
        enqueue(run) {
          // The tenant's state stays while it holds a reservation.
          settle();
          state.queue.push(run);
          countSession(options.sessionOf(run), 1);
          waitingTotal += 1;
          pump();
        },
        cancel() {
          settle();
          forgetIfIdle(tenantId, state);
        },
      };
    },

    update(tenantId, schedule) {
      const state = tenants.get(tenantId);
      if (!state) return;
      state.schedule = schedule;
      pump();
    },

    finished(run) {
      const tenantId = options.tenantOf(run);
      const state = tenants.get(tenantId);
      busySessions.delete(options.sessionOf(run));
      active -= 1;
      if (state) {
        state.active -= 1;
        forgetIfIdle(tenantId, state);
      }
      pump();
    },

    withdraw(run) {
      const tenantId = options.tenantOf(run);
      const state = tenants.get(tenantId);
      const index = state ? state.queue.indexOf(run) : -1;
      if (!state || index < 0) return false;
      state.queue.splice(index, 1);
      countSession(options.sessionOf(run), -1);
      waitingTotal -= 1;
      forgetIfIdle(tenantId, state);
      return true;
    },

    waiting() {
      return [...tenants.values()].flatMap((state) => state.queue);
    },

    load(tenantId) {
      const state = tenants.get(tenantId);
      return { active: state?.active ?? 0, waiting: state?.queue.length ?? 0 };
    },

    loads() {
      return [...tenants].map(([tenantId, state]) => ({ tenantId, active: state.active, waiting: state.queue.length }));
    },
  };
}
