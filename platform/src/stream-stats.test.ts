import { describe, expect, it } from "vitest";
import type { InstanceCounters, StreamStatsStore } from "./db/stream-stats-store";
import { createStreamStats } from "./stream-stats";

/** A store that keeps what was published, in memory: this test is about how often, not where. */
function recordingStore() {
  const published: InstanceCounters[] = [];
  const store = {
    publish: async (counters: InstanceCounters) => {
      published.push({ ...counters, openByTenant: new Map(counters.openByTenant) });
    },
    remove: async () => undefined,
    read: async () => {
      throw new Error("not read in this test");
    },
  } as unknown as StreamStatsStore; // only what createStreamStats calls; `read` is never reached here
  return { store, published };
}

describe("stream statistics publishing", () => {
  it("publishes a burst of messages as one write after the gap, not two per message", async () => {
    const { store, published } = recordingStore();
    const gapMs = 500;
    const stats = createStreamStats({ store, instanceId: "one", publishIntervalMs: 60_000, publishGapMs: gapMs, logError: () => undefined });
    stats.start();
    await stats.flush();
    const before = published.length;
    const started = performance.now();
    // A hundred messages of one tenant, one at a time, each opening and closing the tenant's only
    // stream, with the event loop free between them (so a publish in flight completes).
    const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));
    for (let message = 0; message < 100; message += 1) {
      const close = stats.open("tenant-a", "start");
      await yieldToLoop();
      close();
      await yieldToLoop();
    }
    const duringBurst = published.length;
    // The first opening at once, then at most one per gap however loaded the machine is.
    expect(duringBurst - before).toBeLessThanOrEqual(1 + Math.floor((performance.now() - started) / gapMs));

    // The end of the gap publishes the burst's outcome: nothing open, a hundred started.
    const deadline = Date.now() + 10_000;
    while (published.length === duringBurst && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const last = published.at(-1)!;
    expect(published.length).toBe(duringBurst + 1);
    expect(last.streamsStarted).toBe(100);
    expect(last.openByTenant.size).toBe(0);
    await stats.stop();
  });
});
