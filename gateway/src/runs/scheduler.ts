import { AppError } from "@workforce/protocol";
import type { SlotVerdict } from "./cluster-slots";

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
  /**
   * Cluster-wide slots (REDIS_URL): asked for each run picked to start, one at a time. A run
   * refused goes back to its place; its tenant (tenant-full) or every tenant (cluster-full) waits
   * until `wake` or a run of this gateway ends. Without it only this gateway's counts apply.
   */
  gate?: ((run: Run, schedule: TenantSchedule) => Promise<SlotVerdict>) | undefined;
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
  /** A slot may have freed on another gateway: runs refused by the gate try again. */
  wake(): void;
  /** Takes a waiting run out of its queue (aborted before it started); false if it was not waiting. */
  withdraw(run: Run): boolean;
  /** Every waiting run, tenant by tenant (and the one whose cluster slot is being asked for). */
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

/** 429 tenant_queue_full: the tenant's waiting runs are at its bound (`where`: on this gateway, across the cluster). */
export function tenantQueueFull(active: number, waiting: number, maxQueuedRuns: number, where: string): AppError {
  return new AppError(
    "tenant_queue_full",
    `this organisation already has ${active} runs executing and ${waiting} waiting ${where} (its limit is ${maxQueuedRuns} waiting); try again in a few seconds`,
    { retryable: true, headers: { "retry-after": String(TENANT_QUEUE_RETRY_AFTER_SECONDS) } },
  );
}

/** 429 too_many_runs, the last resort bound on waiting runs of every tenant. */
export function tooManyRuns(subject: string): AppError {
  return new AppError("too_many_runs", `${subject} too many runs waiting; try again shortly`, { retryable: true });
}

interface TenantState<Run> {
  queue: Run[];
  active: number;
  /** Submits between reserve and enqueue/cancel. */
  reserved: number;
  schedule: TenantSchedule;
  /** When the tenant last got a slot (a tick); 0 for a tenant not served since it was idle. */
  servedAt: number;
  /** The gate found the tenant's cluster-wide slots all taken: skipped until a slot frees. */
  blocked: boolean;
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
  /** The gate found every cluster slot taken: nothing starts until a slot frees. */
  let clusterFull = false;
  /** The run whose slot the gate is being asked for, and whether it was withdrawn meanwhile. */
  let asking: Run | undefined;
  let withdrawnWhileAsking = false;

  function stateOf(tenantId: string, schedule: TenantSchedule): TenantState<Run> {
    let state = tenants.get(tenantId);
    if (!state) {
      state = { queue: [], active: 0, reserved: 0, schedule, servedAt: 0, blocked: false };
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

  /** The next run to start: of the tenant, among those with a run that can start, served longest ago (ties in order of arrival). */
  function pick(): { state: TenantState<Run>; index: number } | undefined {
    let picked: { state: TenantState<Run>; index: number } | undefined;
    for (const state of tenants.values()) {
      if (state.blocked || (picked && picked.state.servedAt <= state.servedAt)) continue;
      const index = startableIndex(state);
      if (index >= 0) picked = { state, index };
    }
    return picked;
  }

  /** Moves the picked run from its queue to the running ones (it holds its session and slots). */
  function take(state: TenantState<Run>, index: number): Run | undefined {
    const [run] = state.queue.splice(index, 1);
    if (run === undefined) return undefined;
    tick += 1;
    state.servedAt = tick;
    const session = options.sessionOf(run);
    countSession(session, -1);
    waitingTotal -= 1;
    busySessions.add(session);
    state.active += 1;
    active += 1;
    return run;
  }

  /** Frees what a taken run held (its session, its slots). */
  function untake(state: TenantState<Run>, run: Run): void {
    busySessions.delete(options.sessionOf(run));
    state.active -= 1;
    active -= 1;
  }

  /**
   * Starts runs while global slots are free: each slot goes to the tenant, among those with a run
   * that can start, that was served longest ago (round-robin).
   */
  function pump(): void {
    if (options.gate) {
      pumpGated(options.gate);
      return;
    }
    if (pumping) return;
    pumping = true;
    try {
      while (active < options.maxConcurrentRuns) {
        const picked = pick();
        const run = picked && take(picked.state, picked.index);
        if (run === undefined) return;
        options.start(run);
      }
    } finally {
      pumping = false;
    }
  }

  /** As pump, asking the gate for a cluster slot before each start (one question at a time, in fair order). */
  function pumpGated(gate: NonNullable<SchedulerOptions<Run>["gate"]>): void {
    if (asking !== undefined || clusterFull || active >= options.maxConcurrentRuns) return;
    const picked = pick();
    if (!picked) return;
    const { state, index } = picked;
    const servedBefore = state.servedAt;
    const run = take(state, index);
    if (run === undefined) return;
    asking = run;
    void gate(run, state.schedule)
      // The gate never stalls a run: whatever fails there leaves this gateway's own limits.
      .catch((): SlotVerdict => "granted")
      .then((verdict) => {
        asking = undefined;
        if (withdrawnWhileAsking) {
          withdrawnWhileAsking = false;
          untake(state, run);
          forgetIfIdle(options.tenantOf(run), state);
        } else if (verdict === "granted") {
          options.start(run);
        } else {
          // Back to its place, as if never picked; its tenant (or everyone) waits for a slot to free.
          untake(state, run);
          state.queue.splice(Math.min(index, state.queue.length), 0, run);
          countSession(options.sessionOf(run), 1);
          waitingTotal += 1;
          state.servedAt = servedBefore;
          if (verdict === "cluster-full") clusterFull = true;
          else state.blocked = true;
        }
        pump();
      });
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
        throw tenantQueueFull(state.active, held, schedule.maxQueuedRuns, "on this gateway");
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
        throw tooManyRuns("the gateway has");
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
      state.blocked = false;
      pump();
    },

    finished(run) {
      const tenantId = options.tenantOf(run);
      const state = tenants.get(tenantId);
      busySessions.delete(options.sessionOf(run));
      active -= 1;
      // Its cluster slot is free again (released before this call).
      clusterFull = false;
      if (state) {
        state.active -= 1;
        state.blocked = false;
        forgetIfIdle(tenantId, state);
      }
      pump();
    },

    wake() {
      clusterFull = false;
      for (const state of tenants.values()) state.blocked = false;
      pump();
    },

    withdraw(run) {
      if (run === asking) {
        withdrawnWhileAsking = true;
        return true;
      }
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
      // The run whose cluster slot is being asked for has not started either (closing aborts it too).
      const queued = [...tenants.values()].flatMap((state) => state.queue);
      return asking !== undefined && !withdrawnWhileAsking ? [asking, ...queued] : queued;
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
