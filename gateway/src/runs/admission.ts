import type { EffectiveTenantPolicy, HeartbeatResult, KeySource, RunOrigin, Usage } from "@workforce/protocol";
import type { ResolvedModel } from "../llm/model-provider";
import type { RunOutcome } from "./agent-loop";
import type { ApprovalResume } from "./approval-resume";

/*
 * Admission: what every run passes before it is queued (budget, disk quota), and what it is told
 * when it ends. The run manager calls `admit`; the checks live with what they guard (metering/,
 * tenants/) and are composed here.
 */

/** A run about to be queued, as the admission check sees it. */
export interface AdmissionRequest {
  tenantId: string;
  agent: string;
  message: string;
  origin: RunOrigin;
  /**
   * The tenant's policy in force, as the run manager read it for this run: the checks use it
   * rather than each reading limits.json again (three stats per run, issue 17). Read it afresh
   * when absent.
   */
  policy?: EffectiveTenantPolicy | undefined;
}

/** A run that ended (also one aborted before it started), with what it used. */
export interface EndedRun {
  runId: string;
  tenantId: string;
  agent: string;
  sessionKey: string;
  sessionId: string;
  origin: RunOrigin;
  model: ResolvedModel["info"];
  /** Whose model key it used; absent for runs that never reached a provider choice (interrupted before). */
  keySource?: KeySource | undefined;
  status: RunOutcome["status"];
  usage: Usage;
  error?: RunOutcome["error"];
  /** A heartbeat run's outcome. */
  heartbeat?: HeartbeatResult | undefined;
  /** With status `paused`: the tool call it stopped at (issue 15). */
  approval?: RunOutcome["approval"];
  /** Set when a decision on a paused call started it. */
  resumes?: ApprovalResume | undefined;
  queuedAt: string;
  endedAt: string;
}

/** What an admitted run holds until it ends (a budget reservation, say). */
export interface Admission {
  /** The run ended: settle what was reserved and record its usage. Called once. */
  ended(run: EndedRun): void | Promise<void>;
  /** The run was not queued after all (opening its session failed): give back what was reserved. */
  release(): void;
}

type Admit = (request: AdmissionRequest) => Promise<Admission>;

/**
 * Several admission checks as one (budget, disk quota, …), run in order: the first refusal
 * refuses the run and gives back what the checks before it reserved; the run's end and a
 * release reach every check.
 */
export function composeAdmissions(...checks: readonly Admit[]): Admit {
  return async (request) => {
    const admitted: Admission[] = [];
    try {
      for (const check of checks) admitted.push(await check(request));
    } catch (error) {
      for (const admission of admitted) admission.release();
      throw error;
    }
    return {
      async ended(run) {
        const results = await Promise.allSettled(admitted.map(async (admission) => admission.ended(run)));
        const failed = results.find((result): result is PromiseRejectedResult => result.status === "rejected");
        if (failed) throw failed.reason;
      },
      release() {
        for (const admission of admitted) admission.release();
      },
    };
  };
}
