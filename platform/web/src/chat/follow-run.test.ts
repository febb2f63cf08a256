import type { RunEvent } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/api-error";
import { followRun, type ReconnectPolicy } from "./follow-run";
import { scriptedRun, sseResponse } from "./test-support";

const fast: ReconnectPolicy = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, idleTimeoutMs: 200 };

function collect() {
  const events: RunEvent[] = [];
  const text = () => events.map((event) => (event.type === "text-delta" ? event.delta : "")).join("");
  return { events, text, onEvent: (event: RunEvent) => events.push(event) };
}

const base = { onRunId: () => undefined, onConnection: () => undefined, policy: fast };

describe("followRun", () => {
  it("reconnects after a dropped stream with the last seq and shows every word exactly once", async () => {
    const events = scriptedRun("r1", ["Hello", " there", ",", " Ada", "."]);
    const reconnects: number[] = [];
    const seen = collect();
    const outcome = await followRun({
      ...base,
      signal: new AbortController().signal,
      start: async () => sseResponse(events, { cutAfter: 3, runId: "r1" }),
      // The server replays from an older seq than asked: the client must still skip what it has.
      reconnect: async (_runId, lastSeq) => {
        reconnects.push(lastSeq);
        return sseResponse(events.slice(1));
      },
      onEvent: seen.onEvent,
    });
    expect(outcome.kind).toBe("ended");
    expect(reconnects).toEqual([3]);
    expect(seen.text()).toBe("Hello there, Ada.");
    expect(seen.events.map((event) => event.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it("treats a stream that stalls (no heartbeat) as dropped", async () => {
    const events = scriptedRun("r1", ["a", "b"]);
    const seen = collect();
    let opened = 0;
    const outcome = await followRun({
      ...base,
      signal: new AbortController().signal,
      start: async () => sseResponse(events.slice(0, 2), { hang: true, runId: "r1" }),
      reconnect: async (_runId, lastSeq) => {
        opened += 1;
        return sseResponse(events.filter((event) => event.seq > lastSeq));
      },
      onEvent: seen.onEvent,
    });
    expect(outcome.kind).toBe("ended");
    expect(opened).toBe(1);
    expect(seen.text()).toBe("ab");
  });

  it("does not retry a start the server answered with an error", async () => {
    let starts = 0;
    const outcome = await followRun({
      ...base,
      signal: new AbortController().signal,
      start: async () => {
        starts += 1;
        throw new ApiError("gateway_unavailable", "The gateway is down", 503);
      },
      reconnect: async () => {
        throw new Error("must not reconnect");
      },
      onEvent: () => undefined,
    });
    expect(starts).toBe(1);
    expect(outcome).toMatchObject({ kind: "failed", error: { code: "gateway_unavailable" } });
  });

  it("gives up after the bounded number of attempts instead of looping", async () => {
    const events = scriptedRun("r1", ["a", "b", "c"]);
    let reconnects = 0;
    const outcome = await followRun({
      ...base,
      signal: new AbortController().signal,
      start: async () => sseResponse(events, { cutAfter: 2, runId: "r1" }),
      reconnect: async () => {
        reconnects += 1;
        throw new ApiError("network_error", "offline", 0, true);
      },
      onEvent: () => undefined,
    });
    expect(outcome).toMatchObject({ kind: "failed", error: { code: "stream_lost" } });
    expect(reconnects).toBe(fast.maxAttempts);
  });

  it("stops at once when its signal is aborted", async () => {
    const controller = new AbortController();
    const events = scriptedRun("r1", ["a"]);
    const outcome = await followRun({
      ...base,
      signal: controller.signal,
      start: async () => {
        controller.abort();
        return sseResponse(events, { hang: true, runId: "r1" });
      },
      reconnect: async () => sseResponse(events),
      onEvent: () => undefined,
    });
    expect(outcome.kind).toBe("aborted");
  });
});
