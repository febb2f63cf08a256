import type { RunEvent, RunEventInput } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { RunEventLog } from "./run-event-log";

const usage = { inputTokens: 3, outputTokens: 4 };
const script: RunEventInput[] = [
  { type: "run-start", agent: "ada", sessionKey: "s", sessionId: "s1", model: { provider: "offline", id: "offline", offline: true }, at: "2026-01-01T00:00:00.000Z" },
  { type: "text-delta", delta: "Hel" },
  { type: "text-delta", delta: "lo, " },
  { type: "text-delta", delta: "wörld 👋" },
  { type: "tool-call-start", toolCallId: "c1", name: "read_file", input: { path: "a.md" } },
  { type: "tool-call-end", toolCallId: "c1", name: "read_file", output: "x", isError: false },
  { type: "text-delta", delta: "" },
  { type: "text-delta", delta: "Done." },
  { type: "usage", usage },
  { type: "run-end", status: "ok", usage, at: "2026-01-01T00:00:01.000Z" },
];

async function collect(source: AsyncGenerator<RunEvent>): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of source) events.push(event);
  return events;
}

describe("RunEventLog", () => {
  it("replays a finished (compacted) run exactly as it streamed it, from any seq", async () => {
    const log = new RunEventLog("r1");
    const live = collect(log.follow(0));
    const stamped = script.map((input) => log.append(input));
    expect(await live).toEqual(stamped);
    expect(log.ended).toBe(true);
    expect(log.lastSeq).toBe(script.length);
    for (let after = 0; after <= script.length; after += 1) {
      expect(await collect(log.follow(after))).toEqual(stamped.slice(after));
    }
  });

  it("lets a reader that was following mid-reply finish after the log is compacted", async () => {
    const log = new RunEventLog("r2");
    for (const input of script.slice(0, 3)) log.append(input);
    const reader = log.follow(1);
    const first = await reader.next();
    expect(first.value).toMatchObject({ seq: 2, delta: "Hel" });
    for (const input of script.slice(3)) log.append(input);
    const rest: RunEvent[] = [];
    for await (const event of reader) rest.push(event);
    expect(rest.map((event) => event.seq)).toEqual(script.slice(2).map((_, index) => index + 3));
    expect(rest.at(-1)?.type).toBe("run-end");
    expect(log.append({ type: "text-delta", delta: "late" })).toBeUndefined();
  });
});
