import { describe, expect, it } from "vitest";
import type { SlotVerdict } from "./cluster-slots";
import { createScheduler } from "./scheduler";

interface TestRun {
  id: string;
  tenant: string;
  session: string;
}

/**
 * A scheduler with a cluster gate the test answers: each slot request waits until the test says
 * what the cluster had (granted, cluster-full, tenant-full).
 */
function gated(global = 8) {
  const started: string[] = [];
  const asked: { run: TestRun; answer(verdict: SlotVerdict): Promise<void> }[] = [];
  const scheduler = createScheduler<TestRun>({
    maxConcurrentRuns: global,
    maxQueuedPerSession: 100,
    maxQueuedTotal: 10_000,
    tenantOf: (run) => run.tenant,
    sessionOf: (run) => `${run.tenant}/${run.session}`,
    start: (run) => started.push(run.id),
    gate: (run) =>
      new Promise<SlotVerdict>((resolve) => {
        // Answering waits until the scheduler has acted on it (its next question, if any, is asked).
        asked.push({
          run,
          answer: async (verdict) => {
            resolve(verdict);
            await new Promise((settled) => setImmediate(settled));
          },
        });
      }),
  });
  const runs = new Map<string, TestRun>();
  const schedule = { maxConcurrentRuns: 4, maxQueuedRuns: 100 };
  const submit = (tenant: string, id: string, session = id) => {
    const run = { id, tenant, session };
    runs.set(id, run);
    scheduler.reserve(tenant, schedule, `${tenant}/${session}`).enqueue(run);
    return run;
  };
  /** Answers the oldest open question; returns whose it was. */
  const answer = async (verdict: SlotVerdict) => {
    const question = asked.shift();
    await question?.answer(verdict);
    return question?.run.id;
  };
  return { scheduler, started, asked, submit, answer, runs };
}

describe("scheduler with a cluster gate", () => {
  it("puts a run refused for its tenant back in its place, serves other tenants meanwhile, and retries it when a slot frees", async () => {
    const { scheduler, started, asked, submit, answer } = gated();
    submit("a", "a0");
    submit("a", "a1");
    submit("b", "b0");
    expect(await answer("tenant-full")).toBe("a0");
    // Tenant a waits for the cluster; b is asked next and starts.
    expect(await answer("granted")).toBe("b0");
    expect(started).toEqual(["b0"]);
    expect(asked).toHaveLength(0);
    expect(scheduler.load("a")).toEqual({ active: 0, waiting: 2 });

    scheduler.wake();
    expect(await answer("granted")).toBe("a0");
    expect(await answer("granted")).toBe("a1");
    expect(started).toEqual(["b0", "a0", "a1"]);
  });

  it("starts nothing after cluster-full until one of its runs ends or another gateway frees a slot", async () => {
    const { scheduler, started, asked, submit, answer, runs } = gated();
    submit("a", "a0");
    submit("b", "b0");
    submit("c", "c0");
    expect(await answer("granted")).toBe("a0");
    expect(await answer("cluster-full")).toBe("b0");
    expect(asked).toHaveLength(0);
    scheduler.finished(runs.get("a0")!);
    // b was served longest ago among those waiting (never, like c, and it arrived first): it keeps its turn.
    expect(await answer("cluster-full")).toBe("b0");
    scheduler.wake();
    expect(await answer("granted")).toBe("b0");
    expect(await answer("granted")).toBe("c0");
    expect(started).toEqual(["a0", "b0", "c0"]);
  });

  it("never starts a run withdrawn while its slot was asked for, and frees its session for the next", async () => {
    const { scheduler, started, submit, answer, runs } = gated();
    submit("a", "first", "s");
    submit("a", "second", "s");
    expect(scheduler.withdraw(runs.get("first")!)).toBe(true);
    expect(await answer("granted")).toBe("first");
    expect(await answer("granted")).toBe("second");
    expect(started).toEqual(["second"]);
    expect(scheduler.load("a")).toEqual({ active: 1, waiting: 0 });
  });

  it("counts the run whose slot is being asked for as waiting, so closing the gateway aborts it too", async () => {
    const { scheduler, started, submit, answer, runs } = gated();
    submit("a", "asking");
    expect(scheduler.waiting().map((run) => run.id)).toEqual(["asking"]);
    for (const run of scheduler.waiting()) scheduler.withdraw(run);
    expect(await answer("granted")).toBe("asking");
    expect(started).toEqual([]);
    expect(scheduler.waiting()).toEqual([]);
    expect(runs.size).toBe(1);
  });
});
