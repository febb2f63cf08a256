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
 */
export class SseParser {
  private buffer = "";

  push(chunk: string): SseMessage[] {
    this.buffer += chunk;
    const messages: SseMessage[] = [];
    let boundary = this.findBoundary();
    while (boundary) {
      const block = this.buffer.slice(0, boundary.index);
      this.buffer = this.buffer.slice(boundary.index + boundary.length);
      const message = parseBlock(block);
      if (message) messages.push(message);
      boundary = this.findBoundary();
    }
    return messages;
  }

  private findBoundary(): { index: number; length: number } | undefined {
    const match = /\r\n\r\n|\n\n|\r\r/.exec(this.buffer);
    return match ? { index: match.index, length: match[0].length } : undefined;
  }
}

function parseBlock(block: string): SseMessage | undefined {
  let id: string | undefined;
  let event = "message";
  const data: string[] = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "id") id = value;
    else if (field === "event") event = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return undefined;
  return { id, event, data: data.join("\n") };
}
