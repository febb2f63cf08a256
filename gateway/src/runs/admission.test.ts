import { AppError } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { composeAdmissions, type Admission, type AdmissionRequest, type EndedRun } from "./admission";

const request: AdmissionRequest = { tenantId: "t", agent: "ada", message: "hi", origin: { source: "hook" } };

/** A check that counts what it holds, like a budget reservation or a disk-quota claim. */
function holdingCheck() {
  const state = { held: 0, ended: 0 };
  const admit = (): Promise<Admission> => {
    state.held += 1;
    return Promise.resolve({
      ended: () => {
        state.held -= 1;
        state.ended += 1;
      },
      release: () => {
        state.held -= 1;
      },
    });
  };
  return { state, admit };
}

describe("composeAdmissions", () => {
  it("gives back what earlier checks hold when a later one refuses, and tells every check of the end", async () => {
    const budget = holdingCheck();
    const refusing = () => Promise.reject(new AppError("tenant_quota_exceeded", "full"));
    await expect(composeAdmissions(budget.admit, refusing)(request)).rejects.toMatchObject({ code: "tenant_quota_exceeded" });
    expect(budget.state.held).toBe(0);

    const disk = holdingCheck();
    const admission = await composeAdmissions(budget.admit, disk.admit)(request);
    expect([budget.state.held, disk.state.held]).toEqual([1, 1]);
    await admission.ended({} as EndedRun);
    expect([budget.state, disk.state]).toEqual([{ held: 0, ended: 1 }, { held: 0, ended: 1 }]);

    const released = await composeAdmissions(budget.admit, disk.admit)(request);
    released.release();
    expect([budget.state.held, disk.state.held]).toEqual([0, 0]);
  });
});
