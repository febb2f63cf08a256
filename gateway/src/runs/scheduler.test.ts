import { AppError } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { createScheduler, type TenantSchedule } from "./scheduler";

interface TestRun {
  id: string;
  tenant: string;
  session: string;
}

/** A scheduler whose started runs are recorded in order; runs end when the test says so. */
function harness(options: { global?: number; perSession?: number; total?: number } = {}) {
  const started: string[] = [];
  const scheduler = createScheduler<TestRun>({
    maxConcurrentRuns: options.global ?? 4,
    maxQueuedPerSession: options.perSession ?? 100,
    maxQueuedTotal: options.total ?? 10_000,
    tenantOf: (run) => run.tenant,
    sessionOf: (run) => `${run.tenant}/${run.session}`,
    start: (run) => started.push(run.id),
  });
  const runs = new Map<string, TestRun>();
  const submit = (tenant: string, id: string, schedule: TenantSchedule, session = id) => {
    const run = { id, tenant, session };
    runs.set(id, run);
    scheduler.reserve(tenant, schedule, `${tenant}/${session}`).enqueue(run);
    return run;
  };
  const finish = (id: string) => scheduler.finished(runs.get(id)!);
  return { scheduler, started, submit, finish };
}

const codeOf = (action: () => unknown): string | undefined => {
  try {
    action();
  } catch (error) {
    return error instanceof AppError ? error.code : "not an AppError";
  }
  return undefined;
};

describe("scheduler", () => {
  it("keeps a flooding tenant to its own cap, so another tenant's run starts at once", () => {
    const { started, submit, scheduler } = harness({ global: 4 });
    const schedule = { maxConcurrentRuns: 2, maxQueuedRuns: 100 };
    for (let index = 0; index < 50; index += 1) submit("a", `a${index}`, schedule);
    expect(started).toEqual(["a0", "a1"]);
    submit("b", "b0", schedule);
    expect(started).toEqual(["a0", "a1", "b0"]);
    expect(scheduler.load("a")).toEqual({ active: 2, waiting: 48 });
  });

  it("hands scarce global slots round-robin to tenants with runnable work", () => {
    const { started, submit, finish } = harness({ global: 2 });
    const schedule = { maxConcurrentRuns: 10, maxQueuedRuns: 100 };
    for (let index = 0; index < 6; index += 1) submit("a", `a${index}`, schedule);
    for (let index = 0; index < 3; index += 1) submit("b", `b${index}`, schedule);
    submit("c", "c0", schedule);
    expect(started).toEqual(["a0", "a1"]);
    for (const id of ["a0", "a1", "b0", "c0", "a2", "b1", "a3", "b2"]) finish(id);
    // a was served last, so b and c go first; after that a and b alternate until b is empty.
    expect(started).toEqual(["a0", "a1", "b0", "c0", "a2", "b1", "a3", "b2", "a4", "a5"]);
  });

  it("never lets a run waiting for its busy session block the tenant's other sessions", () => {
    const { started, submit, finish } = harness({ global: 4 });
    const schedule = { maxConcurrentRuns: 2, maxQueuedRuns: 100 };
    submit("a", "s1-first", schedule, "s1");
    submit("a", "s1-second", schedule, "s1");
    submit("a", "s2-first", schedule, "s2");
    expect(started).toEqual(["s1-first", "s2-first"]);
    finish("s2-first");
    expect(started).toEqual(["s1-first", "s2-first"]);
    finish("s1-first");
    expect(started).toEqual(["s1-first", "s2-first", "s1-second"]);
  });

  it("refuses with tenant_queue_full once the tenant's queue is full, leaving other tenants alone", () => {
    const { submit, scheduler } = harness({ global: 8 });
    const schedule = { maxConcurrentRuns: 1, maxQueuedRuns: 2 };
    for (const id of ["a0", "a1", "a2"]) submit("a", id, schedule);
    let refusal: unknown;
    try {
      scheduler.reserve("a", schedule, "a/a3");
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(AppError);
    expect(refusal).toMatchObject({ code: "tenant_queue_full", headers: { "retry-after": "5" } });
    expect(codeOf(() => submit("b", "b0", schedule))).toBeUndefined();
  });

  it("with maxQueuedRuns 0 a tenant runs up to its cap and nothing waits", () => {
    const { submit, started } = harness({ global: 8 });
    const schedule = { maxConcurrentRuns: 2, maxQueuedRuns: 0 };
    submit("a", "a0", schedule);
    submit("a", "a1", schedule);
    expect(codeOf(() => submit("a", "a2", schedule))).toBe("tenant_queue_full");
    expect(started).toEqual(["a0", "a1"]);
  });

  it("counts reserved places, so parallel submits cannot overfill a queue", () => {
    const { scheduler } = harness({ global: 1 });
    const schedule = { maxConcurrentRuns: 1, maxQueuedRuns: 1 };
    const first = scheduler.reserve("a", schedule);
    scheduler.reserve("a", schedule);
    expect(codeOf(() => scheduler.reserve("a", schedule))).toBe("tenant_queue_full");
    first.cancel();
    expect(codeOf(() => scheduler.reserve("a", schedule))).toBeUndefined();
  });

  it("keeps the per-session bound and the gateway-wide bound", () => {
    const { submit } = harness({ global: 1, perSession: 1, total: 3 });
    const schedule = { maxConcurrentRuns: 1, maxQueuedRuns: 100 };
    submit("a", "a0", schedule, "s");
    submit("a", "a1", schedule, "s");
    expect(codeOf(() => submit("a", "a2", schedule, "s"))).toBe("queue_full");
    submit("b", "b0", schedule);
    submit("c", "c0", schedule);
    expect(codeOf(() => submit("d", "d0", schedule))).toBe("too_many_runs");
  });

  it("starts waiting runs as soon as a newer policy raises the cap, and withdraws aborted ones", () => {
    const { submit, started, scheduler } = harness({ global: 8 });
    const runs = ["a0", "a1", "a2", "a3"].map((id) => submit("a", id, { maxConcurrentRuns: 1, maxQueuedRuns: 100 }));
    expect(started).toEqual(["a0"]);
    expect(scheduler.withdraw(runs[1]!)).toBe(true);
    expect(scheduler.withdraw(runs[0]!)).toBe(false);
    scheduler.update("a", { maxConcurrentRuns: 3, maxQueuedRuns: 100 });
    expect(started).toEqual(["a0", "a2", "a3"]);
    expect(scheduler.waiting()).toEqual([]);
  });
});
