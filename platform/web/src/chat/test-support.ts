import { encodeSseEvent, type RunEvent } from "@workforce/protocol";

/** Run events for tests: run-start, one text-delta per word, run-end. */
export function scriptedRun(runId: string, words: string[]): RunEvent[] {
  const model = { provider: "offline", id: "offline", offline: true };
  const events: RunEvent[] = [
    { type: "run-start", runId, seq: 1, agent: "ada", sessionKey: "s1", sessionId: "id1", model, at: "2025-01-01T00:00:00.000Z" },
  ];
  for (const word of words) events.push({ type: "text-delta", runId, seq: events.length + 1, delta: word });
  events.push({
    type: "run-end",
    runId,
    seq: events.length + 1,
    status: "ok",
    usage: { inputTokens: 1, outputTokens: words.length },
    at: "2025-01-01T00:00:01.000Z",
  });
  return events;
}

/**
 * An SSE response carrying `events`; with `cutAfter` the body errors after that many frames
 * (a dropped connection), with `hang` it never ends.
 */
export function sseResponse(events: RunEvent[], options: { cutAfter?: number; hang?: boolean; runId?: string } = {}): Response {
  const encoder = new TextEncoder();
  const frames = events.slice(0, options.cutAfter ?? events.length).map(encodeSseEvent);
  // Each frame split in two chunks, to exercise the incremental parser.
  const chunks = frames.flatMap((frame) => {
    const middle = Math.floor(frame.length / 2);
    return [encoder.encode(frame.slice(0, middle)), encoder.encode(frame.slice(middle))];
  });
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const chunk = chunks.shift();
      if (chunk) controller.enqueue(chunk);
      else if (options.cutAfter !== undefined) controller.error(new TypeError("network error"));
      else if (!options.hang) controller.close();
      else return new Promise<void>(() => undefined);
    },
  });
  return new Response(body, {
    status: 200,
    headers: { "content-type": "text/event-stream", ...(options.runId ? { "x-run-id": options.runId } : {}) },
  });
}

/** An in-memory Storage. */
export function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
}
