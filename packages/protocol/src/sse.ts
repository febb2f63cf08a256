import type { RunEvent } from "./events";

/**
 * One run event as an SSE frame. The SSE `id` is the event's `seq`, so a client that reconnects
 * with `Last-Event-ID` resumes right after the last event it saw.
 */
export function encodeSseEvent(event: RunEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** An SSE comment line; proxies see traffic, clients ignore it. */
export const SSE_HEARTBEAT = ": heartbeat\n\n";

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Incremental SSE parser (WHATWG event-stream rules, minus `retry`): feed it chunks as they
 * arrive, get complete messages back. Works in browsers and Node.
 *
 * Linear in its input: each chunk is scanned once, line by line, and only the unfinished last
 * line is carried over (a reply of n small chunks costs O(n), not O(n²) as rescanning a growing
 * buffer would). A `\r` that ends a chunk ends its line; a `\n` that starts the next chunk is its
 * other half, not an empty line.
 */
export class SseParser {
  private partial = "";
  private endedWithCr = false;
  private id: string | undefined;
  private event = "message";
  private data: string[] = [];

  push(chunk: string): SseMessage[] {
    const messages: SseMessage[] = [];
    let start = 0;
    if (this.endedWithCr && chunk.charCodeAt(0) === LF) start = 1;
    this.endedWithCr = false;
    const length = chunk.length;
    let index = start;
    while (index < length) {
      const code = chunk.charCodeAt(index);
      if (code !== LF && code !== CR) {
        index += 1;
        continue;
      }
      const piece = chunk.slice(start, index);
      const line = this.partial === "" ? piece : this.partial + piece;
      this.partial = "";
      const message = this.line(line);
      if (message) messages.push(message);
      if (code === CR) {
        if (index + 1 === length) this.endedWithCr = true;
        else if (chunk.charCodeAt(index + 1) === LF) index += 1;
      }
      index += 1;
      start = index;
    }
    if (start < length) this.partial += chunk.slice(start);
    return messages;
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") return this.dispatch();
    if (line.charCodeAt(0) === COLON) return undefined;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === SPACE) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id") this.id = value;
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const { id, event, data } = this;
    this.id = undefined;
    this.event = "message";
    this.data = [];
    if (data.length === 0) return undefined;
    return { id, event, data: data.length === 1 ? data[0]! : data.join("\n") };
  }
}

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;
