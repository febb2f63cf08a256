import { AppError } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { createHashLimiter } from "./hash-limiter";
import { createPasswordHasher } from "./password";

/** A task the test finishes by hand, so nothing depends on how fast the machine is. */
function deferred() {
  let finish!: () => void;
  let fail!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  return { task: () => done, finish, fail };
}

describe("hash limiter", () => {
  it("never runs more tasks than its concurrency, and starts waiting ones in order as slots free", async () => {
    const limiter = createHashLimiter({ concurrency: 2, maxQueue: 10 });
    const tasks = Array.from({ length: 6 }, () => deferred());
    const started: number[] = [];
    const runs = tasks.map((item, index) =>
      limiter.run(() => {
        started.push(index);
        return item.task();
      }),
    );
    expect(started).toEqual([0, 1]);
    expect(limiter.stats()).toMatchObject({ running: 2, queued: 4 });

    tasks[1]!.finish();
    await runs[1];
    expect(limiter.stats()).toMatchObject({ running: 2, queued: 3, completed: 1 });
    for (const [index, item] of tasks.entries()) {
      if (index === 1) continue;
      item.finish();
      await runs[index];
    }
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(limiter.stats()).toEqual({ running: 0, queued: 0, maxRunning: 2, completed: 6, rejected: 0 });
  });

  it("refuses at once with 429 and Retry-After when the queue is full, and frees slots of failed tasks", async () => {
    const limiter = createHashLimiter({ concurrency: 1, maxQueue: 2, retryAfterSeconds: 3 });
    const tasks = Array.from({ length: 3 }, () => deferred());
    const runs = tasks.map((item) => limiter.run(item.task));
    const refused = await limiter.run(async () => "never").catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "rate_limited", status: 429, headers: { "retry-after": "3" } });
    expect(limiter.stats()).toMatchObject({ running: 1, queued: 2, rejected: 1 });

    tasks[0]!.fail(new Error("hash failed"));
    await expect(runs[0]).rejects.toThrow("hash failed");
    tasks[1]!.finish();
    tasks[2]!.finish();
    await Promise.all([runs[1], runs[2]]);
    expect(await limiter.run(async () => "after")).toBe("after");
    expect(limiter.stats()).toMatchObject({ running: 0, queued: 0, maxRunning: 1, completed: 4 });
  });

  it("bounds real password hashing: 12 parallel hashes never compute more than 2 at once", async () => {
    const limiter = createHashLimiter({ concurrency: 2, maxQueue: 32 });
    const hasher = createPasswordHasher({ limiter });
    const hashes = await Promise.all(Array.from({ length: 12 }, (_, index) => hasher.hash(`password number ${index}`)));
    expect(new Set(hashes).size).toBe(12);
    expect(limiter.stats()).toEqual({ running: 0, queued: 0, maxRunning: 2, completed: 12, rejected: 0 });
  });
});
