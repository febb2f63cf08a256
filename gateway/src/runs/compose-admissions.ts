import type { Admission, AdmissionRequest } from "./run-manager";

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
