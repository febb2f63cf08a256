import { randomUUID } from "node:crypto";
import { spanContextOf, type SpanContext } from "@workforce/logging";
import { AppError, DEFAULT_HEARTBEAT_SESSION_KEY, type RunTrigger, type RunEvent, type RunInfo, type RunOrigin, type GatewayRunInput, type RunIntegrations, type AttachmentUpload } from "@workforce/protocol";
import { checkAttachmentContents } from "./attachments";
import type { AgentStore } from "../agents/agent-store";
import type { IdempotencyKeys } from "../coordination/idempotency-keys";
import { KeyedLock } from "../fs/keyed-lock";
import { storageError } from "../fs/storage-error";
import type { ModelRouter } from "../llm/model-router";
import type { ResolvedModel } from "../llm/model-provider";
import type { LogContext, Logger } from "../logger";
import type { SessionStore } from "../sessions/session-store";
import type { TenantPolicies } from "../tenants/tenant-policy";
import type { Admission, AdmissionRequest, EndedRun } from "./admission";
import type { RunContext, RunOutcome } from "./agent-loop";
import { approvalIdempotencyKey, approvalPendingError, type ApprovalResume } from "./approval-resume";
import { remoteRunHandle, sharedKeys } from "./cluster-idempotency";
import type { ClusterSlots } from "./cluster-slots";
import type { InFlightJournal } from "./in-flight-journal";
import type { InterruptedRuns } from "./interrupted-runs";
import { RunEventLog } from "./run-event-log";
import type { RunEventRelay, RunEventSource } from "./run-relay";
import type { RunObserver } from "./run-observer";
import { createScheduler, type TenantLoad, type TenantSchedule } from "./scheduler";

export interface RunManagerLimits {
  /** Runs executing at once across all tenants (each tenant also has its own cap, from its policy). */
  maxConcurrentRuns: number;
  /** Runs waiting behind the active one in a single session; more get queue_full. */
  maxQueuedPerSession: number;
  /** Runs waiting across the whole gateway; more get too_many_runs. */
  maxQueuedTotal: number;
  runTimeoutMs: number;
  /** How long a finished run's events stay replayable. */
  retentionMs: number;
  /** At most this many finished runs are kept (oldest forgotten first), whatever their age; default 500. */
  maxRetainedRuns?: number;
  /** ...and at most about this many bytes of their (compacted) events; default 8 MB. */
  maxRetainedBytes?: number;
}

export interface RunManagerDeps {
  agents: AgentStore;
  sessions: SessionStore;
  routeModel: ModelRouter;
  execute(run: RunContext): Promise<RunOutcome>;
  logger: Logger;
  /** Lets a run's log lines name the request that submitted it, wherever the scheduler starts it. */
  logContext?: LogContext;
  now: () => Date;
  newId?: () => string;
  limits: RunManagerLimits;
  /** Each tenant's limits (concurrency, queue) and suspension, read at every submit. */
  policies: Pick<TenantPolicies, "get" | "assertActive">;
  /** Publishes this gateway's runs so other gateways on the same data dir can serve them (REDIS_URL). */
  relay?: RunEventRelay | undefined;
  /**
   * Checks a run before it is queued (budget, disk quota): throws an AppError to refuse it, or
   * returns what to tell when it ends. Every entry point's runs pass here.
   */
  admit?: ((request: AdmissionRequest) => Promise<Admission>) | undefined;
  /** Sees every run's events as they are appended (metrics); must not throw or block. */
  observer?: RunObserver | undefined;
  /** Idempotency keys shared by the cluster (REDIS_URL): a retry on another gateway joins the run. */
  idempotency?: IdempotencyKeys | undefined;
  /** Run slots and queue bounds counted across the cluster (REDIS_URL). */
  slots?: ClusterSlots | undefined;
  /** Records runs in flight durably, so runs a crash cuts off end run_interrupted at the next start (in-flight-journal.ts). */
  inFlight?: Pick<InFlightJournal, "submitted" | "ended"> | undefined;
  /** Runs a dead gateway process left behind, answered as ended run_interrupted (interrupted-runs.ts). */
  interrupted?: Pick<InterruptedRuns, "find"> | undefined;
}

/** The run a decision on a paused tool call starts (issue 15): it continues the session's paused turn. */
export interface ApprovalRunInput {
  sessionKey: string;
  resume: ApprovalResume;
  /** What the run may use (the decision request's, not the paused run's: those were never kept). */
  integrations?: RunIntegrations | undefined;
  /** The platform fired it on its own (an approval's timeout, say): metered as such (see GatewayRunInput). */
  trigger?: RunTrigger | undefined;
}

/** What a run is started with: a message, or a decision on the call its session waits on. */
export type RunInput = GatewayRunInput | ApprovalRunInput;

/** A run found by id: executing here, or (through the relay) on another gateway. */
export interface LocatedRun {
  info(): RunInfo;
  events: RunEventSource;
  /** Aborts it here, or asks the gateway executing it to. */
  abort(): Promise<RunInfo>;
}

/** What submit answers: the new run, or the one a request with the same idempotency key started (maybe on another gateway). */
export interface SubmittedRun extends LocatedRun {
  runId: string;
  sessionKey: string;
}

export interface RunRecord {
  runId: string;
  tenantId: string;
  agent: string;
  sessionKey: string;
  sessionId: string;
  message: string;
  /** Edit and resend, or regenerate (decision 041): the earlier run whose message this one replaces. */
  replacesRunId: string | undefined;
  /** Files sent with the message (decision 042), checked; written to the workspace by the run, before its user entry. */
  attachments?: AttachmentUpload[] | undefined;
  /** Set on the run a decision started: what it carries out instead of answering a message. */
  resume: ApprovalResume | undefined;
  model: ResolvedModel;
  /** What the run may use beyond the workspace tools (secrets included): in memory only, never logged or written. */
  integrations: RunIntegrations | undefined;
  /** A heartbeat run (heartbeat-run.ts): its end carries its outcome. */
  heartbeat?: boolean | undefined;
  status: RunInfo["status"];
  log: RunEventLog;
  controller: AbortController;
  idempotencyKey: string | undefined;
  origin: RunOrigin;
  queuedAt: string;
  admission: Admission | undefined;
  /** X-Request-Id of the request that submitted it, for its log lines. */
  requestId?: string | undefined;
  /** The submitting request's span, when tracing: the run's span is its child. */
  trace?: SpanContext | undefined;
  /** Settles once the run is in the in-flight journal (durable); it is queued, and handed to clients, only then. */
  recorded: Promise<void>;
  /** Settles when the run has ended (its run-end is in the log). */
  done: Promise<void>;
  finish: () => void;
}

export interface RunManager {
  /** Validates, admits, opens the session and queues the run; resolves once it has a run id. */
  submit(tenantId: string, agent: string, input: RunInput, origin?: RunOrigin): Promise<SubmittedRun>;
  /** Throws run_not_found for unknown ids and for runs of another tenant. */
  get(tenantId: string, runId: string): RunRecord;
  info(run: RunRecord): RunInfo;
  abort(tenantId: string, runId: string): RunRecord;
  /** Finds a run here or on another gateway (relay); throws run_not_found for unknown ids and other tenants' runs. */
  locate(tenantId: string, runId: string): Promise<LocatedRun>;
  /** Aborts every queued or active run of a session (or of the whole agent when key is undefined); returns them. */
  abortWhere(tenantId: string, agent: string, sessionKey?: string): RunRecord[];
  /**
   * Erasing a tenant: refuses its new runs meanwhile, waits for its submits in progress, aborts its
   * queued and running runs, waits until they have ended (nothing of theirs writes afterwards) and
   * forgets them and their idempotency keys. Returns how many runs were aborted.
   */
  abortTenant(tenantId: string): Promise<number>;
  /** Runs executing and waiting per tenant with any (queue depth for metrics). */
  loads(): TenantLoad[];
  /** Runs executing here and waiting here (across tenants), and whether close() has begun: what readiness reads. */
  load(): { active: number; waiting: number; closing: boolean };
  /** Aborts everything and waits for active runs to record their state. */
  close(): Promise<void>;
}

/**
 * Queues runs fairly per tenant and per session (see scheduler.ts), refuses suspended tenants,
 * enforces the run timeout, deduplicates idempotent retries, and keeps each
 * run's event log (compacted) for replay until the retention period after it ends, within a
 * bound on how many finished runs and bytes are kept.
 */
export function createRunManager(deps: RunManagerDeps): RunManager {
  const newId = deps.newId ?? randomUUID;
  const runs = new Map<string, RunRecord>();
  const idempotent = new Map<string, string>();
  const active = new Set<RunRecord>();
  const submitLock = new KeyedLock();
  /** Submits in progress per tenant, and tenants being erased (their submits are refused). */
  const submitting = new Map<string, Set<Promise<unknown>>>();
  const erasing = new Map<string, number>();
  let closing = false;
  /** Finished runs still replayable, oldest first, with when they ended and their size. */
  const retained: { run: RunRecord; endedAt: number; bytes: number }[] = [];
  let retainedBytes = 0;
  let sweeper: NodeJS.Timeout | undefined;
  const maxRetainedRuns = deps.limits.maxRetainedRuns ?? 500;
  const maxRetainedBytes = deps.limits.maxRetainedBytes ?? 8 * 1024 * 1024;

  const announce = (run: RunRecord) => deps.relay?.publishInfo(run.tenantId, infoOf(run));
  /** Each appended event goes to the relay (other gateways) and the observer (metrics). */
  const published = (run: () => RunRecord) => (event: RunEvent) => {
    deps.relay?.publishEvent(run().tenantId, event);
    deps.observer?.runEvent(run(), event);
  };
  deps.relay?.onAbortRequest((tenantId, runId) => {
    const run = runs.get(runId);
    if (run?.tenantId === tenantId) abortRun(run);
  });

  const sessionOf = (run: Pick<RunRecord, "tenantId" | "agent" | "sessionKey">) => `${run.tenantId}/${run.agent}/${run.sessionKey}`;
  const idempotencyOf = (tenantId: string, agent: string, key: string) => `${tenantId}/${agent}/${key}`;
  function handleOf(run: RunRecord): SubmittedRun {
    return {
      runId: run.runId,
      sessionKey: run.sessionKey,
      info: () => infoOf(run),
      events: run.log,
      abort: async () => {
        abortRun(run);
        return infoOf(run);
      },
    };
  }

  /** This process's run for an idempotency key, while it is kept. */
  function localIdempotent(tenantId: string, agent: string, key: string | undefined): RunRecord | undefined {
    const existing = key === undefined ? undefined : idempotent.get(idempotencyOf(tenantId, agent, key));
    return existing ? runs.get(existing) : undefined;
  }

  const shared = sharedKeys({
    keys: deps.idempotency,
    relay: deps.relay,
    local: (tenantId, id) => {
      const run = runs.get(id);
      return run?.tenantId === tenantId ? handleOf(run) : undefined;
    },
    keptMs: deps.limits.runTimeoutMs + deps.limits.retentionMs,
    endedMs: deps.limits.retentionMs,
  });

  function infoOf(run: RunRecord): RunInfo {
    return { runId: run.runId, agent: run.agent, sessionKey: run.sessionKey, sessionId: run.sessionId, status: run.status, lastSeq: run.log.lastSeq };
  }

  const clusterLimits = { maxConcurrentRuns: deps.limits.maxConcurrentRuns, maxQueuedTotal: deps.limits.maxQueuedTotal };
  const slots = deps.slots;
  const scheduler = createScheduler<RunRecord>({
    maxConcurrentRuns: deps.limits.maxConcurrentRuns,
    maxQueuedPerSession: deps.limits.maxQueuedPerSession,
    maxQueuedTotal: deps.limits.maxQueuedTotal,
    tenantOf: (run) => run.tenantId,
    sessionOf,
    start,
    gate: slots && ((run, schedule) => slots.take(run, schedule, clusterLimits)),
  });
  slots?.onFreed(() => scheduler.wake());
  const scheduleOf = (policy: { limits: TenantSchedule }): TenantSchedule => ({
    maxConcurrentRuns: policy.limits.maxConcurrentRuns,
    maxQueuedRuns: policy.limits.maxQueuedRuns,
  });
  /** Tenants whose policy is being re-read after a run ended. */
  const refreshing = new Set<string>();

  /** A pushed policy reaches a tenant's waiting runs as its runs end, not only at its next submit. */
  function refreshSchedule(tenantId: string): void {
    if (refreshing.has(tenantId) || scheduler.load(tenantId).waiting === 0) return;
    refreshing.add(tenantId);
    deps.policies
      .get(tenantId)
      .then((policy) => scheduler.update(tenantId, scheduleOf(policy)))
      .catch((error: unknown) => deps.logger.warn(`tenant ${tenantId}: could not re-read its limits (${error instanceof Error ? error.message : String(error)})`))
      .finally(() => refreshing.delete(tenantId));
  }

  /**
   * The scheduler starts a run from whatever freed its slot (another run's end, another request):
   * its log lines must name its own request, tenant and run, not that one's.
   */
  function start(run: RunRecord): void {
    const fields = { requestId: run.requestId, tenantId: run.tenantId, runId: run.runId, ...run.trace };
    if (deps.logContext) deps.logContext.run(fields, () => startRun(run));
    else startRun(run);
  }

  function startRun(run: RunRecord): void {
    active.add(run);
    run.status = "running";
    announce(run);
    run.log.append({
      type: "run-start",
      agent: run.agent,
      sessionKey: run.sessionKey,
      sessionId: run.sessionId,
      model: run.model.info,
      at: deps.now().toISOString(),
    });
    const timer = setTimeout(() => {
      run.controller.abort(new AppError("run_timeout", `the run took longer than ${Math.round(deps.limits.runTimeoutMs / 1000)} s and was stopped`));
    }, deps.limits.runTimeoutMs);
    timer.unref();
    const execution = run.controller.signal.aborted
      ? Promise.resolve<RunOutcome>({ status: "aborted", usage: { inputTokens: 0, outputTokens: 0 } })
      : // One run per session across every gateway on this data dir; in this process the queue already ensures it.
        deps.sessions.withSessionLease(
          { tenantId: run.tenantId, agent: run.agent },
          run.sessionId,
          // Another gateway has the session now (this one stalled past its lease): stop, its writes are refused anyway.
          { signal: run.controller.signal, timeoutMs: deps.limits.runTimeoutMs, onLost: (error) => run.controller.abort(error) },
          () =>
            deps.execute({
              runId: run.runId,
              tenantId: run.tenantId,
              agent: run.agent,
              sessionKey: run.sessionKey,
              sessionId: run.sessionId,
              message: run.message,
              replacesRunId: run.replacesRunId,
              attachments: run.attachments,
              resume: run.resume,
              model: run.model,
              integrations: run.integrations,
              heartbeat: run.heartbeat,
              signal: run.controller.signal,
              emit: (event) => run.log.append(event),
            }),
        );
    execution
      .catch((error: unknown): RunOutcome => {
        const usage = { inputTokens: 0, outputTokens: 0 };
        // Stopped while waiting for the session's run lease (abort, timeout) or refused by storage: not a crash.
        const { signal } = run.controller;
        const reason: unknown = signal.aborted ? signal.reason : (storageError(error) ?? error);
        if (signal.aborted && !(reason instanceof AppError)) return { status: "aborted", usage };
        if (reason instanceof AppError) return { status: "error", usage, error: { code: reason.code, message: reason.message } };
        deps.logger.error(`run ${run.runId} crashed`, error);
        return {
          status: "error",
          usage: { inputTokens: 0, outputTokens: 0 },
          error: { code: "internal_error", message: "the run failed because of an internal gateway error; see the gateway log" },
        };
      })
      .then((outcome) => {
        clearTimeout(timer);
        end(run, outcome);
        active.delete(run);
        scheduler.finished(run);
        refreshSchedule(run.tenantId);
      })
      .catch((error: unknown) => deps.logger.error(`run ${run.runId}: could not finish`, error));
  }

  function end(run: RunRecord, ended: RunOutcome): void {
    // A heartbeat that never got to say how it went (aborted while queued, crashed) failed.
    const outcome: RunOutcome = run.heartbeat && !ended.heartbeat ? { ...ended, heartbeat: { outcome: "failed" } } : ended;
    // Before the scheduler hears of it, so the next run's slot request finds this one free.
    slots?.release(run);
    const key = shared.keyOf(run.tenantId, run.agent, run.idempotencyKey);
    if (key) shared.ended(key, run.runId);
    deps.inFlight?.ended(run.runId);
    run.status = outcome.status;
    announce(run);
    run.log.append({
      type: "run-end",
      status: outcome.status,
      usage: outcome.usage,
      ...(outcome.error ? { error: outcome.error } : {}),
      ...(outcome.heartbeat ? { heartbeat: outcome.heartbeat } : {}),
      at: deps.now().toISOString(),
    });
    run.finish();
    settleAdmission(run, outcome);
    const bytes = run.log.approximateBytes;
    retained.push({ run, endedAt: Date.now(), bytes });
    retainedBytes += bytes;
    sweep();
  }

  function settleAdmission(run: RunRecord, outcome: RunOutcome): void {
    const admission = run.admission;
    if (!admission) return;
    run.admission = undefined;
    const ended: EndedRun = {
      runId: run.runId,
      tenantId: run.tenantId,
      agent: run.agent,
      sessionKey: run.sessionKey,
      sessionId: run.sessionId,
      origin: run.origin,
      model: run.model.info,
      keySource: run.model.keySource,
      status: outcome.status,
      usage: outcome.usage,
      error: outcome.error,
      heartbeat: outcome.heartbeat,
      approval: outcome.approval,
      resumes: run.resume,
      queuedAt: run.queuedAt,
      endedAt: deps.now().toISOString(),
    };
    Promise.resolve()
      .then(() => admission.ended(ended))
      .catch((error: unknown) => deps.logger.error(`run ${run.runId}: could not record its end (usage, budget)`, error));
  }

  /**
   * Forgets finished runs past the retention period, and the oldest ones beyond the count and
   * size bounds, so memory under sustained load stays flat instead of growing for the whole
   * retention period. One timer for all of them, armed while any are kept.
   */
  function sweep(): void {
    const expired = Date.now() - deps.limits.retentionMs;
    for (let oldest = retained[0]; oldest; oldest = retained[0]) {
      if (oldest.endedAt > expired && retained.length <= maxRetainedRuns && retainedBytes <= maxRetainedBytes) break;
      retained.shift();
      retainedBytes -= oldest.bytes;
      forgetRun(oldest.run);
    }
    if (retained.length === 0) {
      if (sweeper) clearTimeout(sweeper);
      sweeper = undefined;
    } else if (!sweeper) {
      const next = retained[0];
      sweeper = setTimeout(
        () => {
          sweeper = undefined;
          sweep();
        },
        Math.max(0, (next?.endedAt ?? 0) + deps.limits.retentionMs - Date.now()) + 1,
      );
      sweeper.unref();
    }
  }

  function forgetRun(run: RunRecord): void {
    if (runs.get(run.runId) === run) runs.delete(run.runId);
    const key = run.idempotencyKey && idempotencyOf(run.tenantId, run.agent, run.idempotencyKey);
    if (key && idempotent.get(key) === run.runId) idempotent.delete(key);
  }

  /** Tracks a submit so erasing its tenant waits for it; refuses it while the tenant is being erased. */
  function trackSubmit<T>(tenantId: string, submit: () => Promise<T>): Promise<T> {
    if (erasing.has(tenantId)) throw new AppError("conflict", "this tenant's data is being erased; try again shortly", { retryable: true });
    const promise = submit();
    const set = submitting.get(tenantId) ?? new Set();
    submitting.set(tenantId, set.add(promise));
    const untrack = () => {
      set.delete(promise);
      if (set.size === 0 && submitting.get(tenantId) === set) submitting.delete(tenantId);
    };
    promise.then(untrack, untrack);
    return promise;
  }

  function abortRun(run: RunRecord): void {
    if (run.log.ended) return;
    run.controller.abort(new DOMException("aborted by request", "AbortError"));
    if (scheduler.withdraw(run)) {
      // A queued run never started: record its start and end so clients see a complete stream.
      run.log.append({ type: "run-start", agent: run.agent, sessionKey: run.sessionKey, sessionId: run.sessionId, model: run.model.info, at: deps.now().toISOString() });
      end(run, { status: "aborted", usage: { inputTokens: 0, outputTokens: 0 } });
    }
  }

  return {
    async submit(tenantId, agent, input, given = { source: "http" }) {
      // A run the platform fired on its own is metered as a scheduled one, whichever way it came in.
      const origin: RunOrigin = input.trigger ? { ...given, source: "schedule", trigger: input.trigger } : given;
      if (closing) throw new AppError("gateway_unavailable", "the gateway is shutting down");
      const runId = newId();
      const decided = "resume" in input ? input : undefined;
      const resume = decided?.resume;
      const message = "resume" in input ? "" : input.message;
      const attachments = "resume" in input ? undefined : input.attachments;
      // Before anything is queued or written: a file that is not what it claims is a 400, not a failed run.
      if (attachments) checkAttachmentContents(attachments);
      // A repeated decision joins the run the first one started, here or on another gateway.
      const idempotencyKey = "resume" in input ? approvalIdempotencyKey(input.resume.approvalId) : input.idempotencyKey;
      const sharedKey = shared.keyOf(tenantId, agent, idempotencyKey);
      // Serialised per agent so concurrent sends queue in arrival order and share new sessions.
      return trackSubmit(tenantId, async () => {
        // A retry of a run on another gateway joins it (the key in Redis names it); outside the lock, as it may wait.
        const claim = sharedKey && !localIdempotent(tenantId, agent, idempotencyKey) ? await shared.claim(sharedKey, runId) : { claimed: false };
        if ("joined" in claim) return claim.joined;
        const claimed = claim.claimed ? sharedKey : undefined;
        return submitLock.run(`${tenantId}/${agent}`, async () => {
        const local = localIdempotent(tenantId, agent, idempotencyKey);
        if (local) return { run: local, queue: undefined };
        const policy = await deps.policies.get(tenantId);
        deps.policies.assertActive(policy);
        const definition = await deps.agents.get(tenantId, agent);
        // Before anything of the run is written: a refusal (model_key_required) leaves no trace.
        const model = deps.routeModel(definition.model, input.integrations);
        // A heartbeat run (heartbeat-run.ts) goes to the heartbeat session unless told otherwise.
        const heartbeat = "heartbeat" in input && input.heartbeat === true;
        const sessionKey = input.sessionKey ?? (heartbeat ? DEFAULT_HEARTBEAT_SESSION_KEY : undefined);
        // Holds the run's place in the queues from here, so parallel submits cannot overfill them.
        const place = scheduler.reserve(tenantId, scheduleOf(policy), sessionKey === undefined ? undefined : sessionOf({ tenantId, agent, sessionKey }));
        let admission: Admission | undefined;
        let unpin: () => void = () => undefined;
        let session;
        try {
          // The tenant's and the cluster's waiting runs counted on every gateway (REDIS_URL).
          await slots?.queue({ runId, tenantId }, scheduleOf(policy), clusterLimits);
          admission = await deps.admit?.({ tenantId, agent, message, origin, policy });
          // The agent's registry stays loaded (never evicted) from now until the run ends.
          unpin = await deps.sessions.pin({ tenantId, agent });
          // A decision continues its session, never opens one.
          session = decided ? { summary: await deps.sessions.get({ tenantId, agent }, decided.sessionKey) } : await deps.sessions.open({ tenantId, agent }, sessionKey, heartbeat ? "Heartbeat" : message);
          // Refused before anything is queued; a message queued before the pause is refused by the run itself.
          const pending = session.summary.pendingApproval;
          if (pending && !resume) throw approvalPendingError(agent, session.summary.key, pending);
          if (claimed) await shared.confirm(claimed, runId);
        } catch (error) {
          unpin();
          admission?.release();
          place.cancel();
          slots?.release({ runId, tenantId });
          throw error;
        }
        let finish: () => void = () => undefined;
        const done = new Promise<void>((resolve) => {
          finish = resolve;
        });
        const run: RunRecord = {
          runId,
          tenantId,
          agent,
          sessionKey: session.summary.key,
          sessionId: session.summary.sessionId,
          message,
          replacesRunId: "resume" in input ? undefined : input.replacesRunId,
          ...(attachments && attachments.length > 0 ? { attachments } : {}),
          resume,
          model,
          integrations: input.integrations,
          ...(heartbeat ? { heartbeat: true } : {}),
          status: "queued",
          log: new RunEventLog(runId, deps.relay || deps.observer ? published(() => run) : undefined),
          controller: new AbortController(),
          idempotencyKey,
          origin,
          queuedAt: deps.now().toISOString(),
          admission,
          requestId: deps.logContext?.current()?.requestId,
          trace: spanContextOf(deps.logContext?.current()),
          recorded: Promise.resolve(),
          done,
          finish: () => {
            unpin();
            finish();
          },
        };
        // Recorded in arrival order; waited for outside the lock, so the agent's next submits join the same fdatasync.
        run.recorded = deps.inFlight?.submitted({ runId, tenantId, agent, sessionKey: run.sessionKey, sessionId: run.sessionId, model: model.info, at: run.queuedAt }) ?? Promise.resolve();
        runs.set(runId, run);
        if (idempotencyKey) idempotent.set(idempotencyOf(tenantId, agent, idempotencyKey), runId);
        return { run, queue: () => place.enqueue(run) };
        }).then(async (submitted) => {
          // Durable before anything of the run happens or the client learns its id: a crash from here
          // on leaves it to end run_interrupted. Journal writes complete in order, so runs queue in it.
          await submitted.run.recorded;
          if (submitted.queue) {
            announce(submitted.run);
            submitted.queue();
          }
          return handleOf(submitted.run);
        }).catch((error: unknown) => {
          if (claimed) shared.release(claimed, runId);
          throw error;
        });
      });
    },

    get(tenantId, runId) {
      const run = runs.get(runId);
      if (!run || run.tenantId !== tenantId) throw new AppError("run_not_found", `no run "${runId}" in this tenant`);
      return run;
    },

    info: infoOf,

    async locate(tenantId, runId) {
      const local = runs.get(runId);
      if (local?.tenantId === tenantId) return handleOf(local);
      const interrupted = local ? undefined : deps.interrupted?.find(tenantId, runId);
      if (interrupted) return interrupted;
      let remote;
      try {
        remote = local ? undefined : await deps.relay?.find(tenantId, runId);
      } catch (error) {
        deps.logger.warn(`run ${runId}: the run relay could not be asked (${error instanceof Error ? error.message : String(error)})`);
        throw new AppError("gateway_unavailable", `run "${runId}" is not on this gateway, and the run relay (Redis) cannot be reached to find it`, { retryable: true });
      }
      if (!remote) throw new AppError("run_not_found", `no run "${runId}" in this tenant`);
      return remoteRunHandle(deps.relay, tenantId, remote);
    },

    abort(tenantId, runId) {
      const run = this.get(tenantId, runId);
      abortRun(run);
      return run;
    },

    abortWhere(tenantId, agent, sessionKey) {
      const affected: RunRecord[] = [];
      for (const run of runs.values()) {
        if (run.tenantId !== tenantId || run.agent !== agent || run.log.ended) continue;
        if (sessionKey !== undefined && run.sessionKey !== sessionKey) continue;
        abortRun(run);
        affected.push(run);
      }
      return affected;
    },

    async abortTenant(tenantId) {
      erasing.set(tenantId, (erasing.get(tenantId) ?? 0) + 1);
      try {
        await Promise.allSettled([...(submitting.get(tenantId) ?? [])]);
        const own = [...runs.values()].filter((run) => run.tenantId === tenantId);
        const live = own.filter((run) => !run.log.ended);
        for (const run of live) abortRun(run);
        await Promise.all(own.map((run) => run.done));
        for (const run of own) forgetRun(run);
        for (let index = retained.length - 1; index >= 0; index -= 1) {
          const kept = retained[index];
          if (kept?.run.tenantId !== tenantId) continue;
          retained.splice(index, 1);
          retainedBytes -= kept.bytes;
        }
        return live.length;
      } finally {
        const left = (erasing.get(tenantId) ?? 1) - 1;
        if (left > 0) erasing.set(tenantId, left);
        else erasing.delete(tenantId);
      }
    },

    loads: () => scheduler.loads(),
    load: () => ({ active: active.size, waiting: scheduler.waiting().length, closing }),

    async close() {
      closing = true;
      for (const run of [...scheduler.waiting(), ...active]) abortRun(run);
      await Promise.all([...active].map((run) => run.done));
      if (sweeper) clearTimeout(sweeper);
      sweeper = undefined;
    },
  };
}
