import type { RunEvent } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { RunSubscription } from "../gateway-run-streams";
import { ResumingRunStream } from "./resuming-run-stream";

const RUN = "run-1";
const at = new Date(0).toISOString();
const start: RunEvent = { type: "run-start", runId: RUN, seq: 1, agent: "ada", sessionKey: "s", sessionId: "sid", model: { provider: "anthropic", id: "m", offline: false }, at };
const delta = (seq: number, text: string): RunEvent => ({ type: "text-delta", runId: RUN, seq, delta: text });
const end = (seq: number): RunEvent => ({ type: "run-end", runId: RUN, seq, status: "ok", usage: { inputTokens: 1, outputTokens: 2 }, at });
const subscription = (after: number) => new RunSubscription(RUN, after, () => undefined);

function collect(stream: ResumingRunStream) {
  const seen: { events: RunEvent[]; lost: boolean } = { events: [], lost: false };
  stream.attach({ event: (event) => seen.events.push(event), lost: () => (seen.lost = true) });
  return seen;
}

describe("a run stream that resumes through another gateway", () => {
  it("subscribes again from the last seq it delivered when its connection is lost, and delivers every event once", async () => {
    const first = subscription(0);
    const second = subscription(2);
    const asked: number[] = [];
    const stream = new ResumingRunStream(RUN, first, 0, async (after) => {
      asked.push(after);
      return second;
    });
    first.deliver(start);
    const seen = collect(stream);
    first.deliver(delta(2, "Hel"));
    first.connectionLost();
    await Promise.resolve();
    expect(asked).toEqual([2]);
    // The new gateway replays from the relay: what came already is not sent twice.
    second.deliver(delta(2, "Hel"));
    second.deliver(delta(3, "lo"));
    let ended: [RunEvent, string | undefined] | undefined;
    stream.onRunEnd((event, agent) => (ended = [event, agent]));
    second.deliver(end(4));
    expect(seen.events.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    expect(seen.lost).toBe(false);
    expect(stream.closed).toBe(true);
    expect(ended?.[1]).toBe("ada");
  });

  it("passes the loss on (the browser resumes with Last-Event-ID) when no gateway can serve the run", async () => {
    const first = subscription(0);
    const stream = new ResumingRunStream(RUN, first, 0, () => Promise.reject(new Error("no gateway")));
    const seen = collect(stream);
    first.deliver(start);
    first.connectionLost();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual({ events: [start], lost: true });
    expect(stream.closed).toBe(true);
  });

  it("still follows the run to its end after the browser left, so its usage is recorded", async () => {
    const first = subscription(0);
    const second = subscription(1);
    const stream = new ResumingRunStream(RUN, first, 0, async () => second);
    const seen = collect(stream);
    first.deliver(start);
    stream.detach();
    first.connectionLost();
    await Promise.resolve();
    let usage: number | undefined;
    stream.onRunEnd((event) => (usage = event.usage.outputTokens));
    second.deliver(end(2));
    expect(usage).toBe(2);
    expect(seen.events).toEqual([start]);
  });
});
