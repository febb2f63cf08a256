import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SseParser, type SseMessage } from "./sse";

/** The whole stream at once, by the spec's rules: what any chunking must also give. */
function reference(stream: string): SseMessage[] {
  const lines = stream.split(/\r\n|\n|\r/);
  lines.pop(); // an unfinished last line is not a line yet
  const messages: SseMessage[] = [];
  let block: { id: string | undefined; event: string; data: string[] } = { id: undefined, event: "message", data: [] };
  for (const line of lines) {
    if (line === "") {
      if (block.data.length > 0) messages.push({ id: block.id, event: block.event, data: block.data.join("\n") });
      block = { id: undefined, event: "message", data: [] };
      continue;
    }
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") block.data.push(value);
    else if (field === "event") block.event = value;
    else if (field === "id") block.id = value;
  }
  return messages;
}

function feed(stream: string, cuts: number[]): SseMessage[] {
  const parser = new SseParser();
  const positions = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b);
  const messages: SseMessage[] = [];
  let from = 0;
  for (const position of [...positions, stream.length]) {
    messages.push(...parser.push(stream.slice(from, position)));
    from = position;
  }
  return messages;
}

const newline = fc.constantFrom("\n", "\r", "\r\n");
const field = fc.tuple(fc.constantFrom("data", "event", "id", ": comment", "retry", "data:", "dat"), fc.string({ maxLength: 6 }), newline).map(([name, value, end]) => `${name}${name.endsWith(":") || name.startsWith(":") ? "" : ":"}${value.replace(/[\r\n]/g, "")}${end}`);
const stream = fc.array(fc.oneof(field, newline), { maxLength: 40 }).map((parts) => parts.join(""));

describe("SseParser", () => {
  it("gives the same messages for any chunking of a stream, as the spec reads the whole of it", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.nat(), { maxLength: 12 }), (text, cuts) => {
        expect(feed(text, cuts)).toEqual(reference(text));
      }),
      { numRuns: 500 },
    );
  });

  it("reads run events with ids, names and multi-line data", () => {
    const parser = new SseParser();
    expect(parser.push("id: 1\nevent: text-delta\ndata: {\"a\":1}\n\n: heartbeat\n\nid: 2\ndata: one\ndata: two\n")).toEqual([{ id: "1", event: "text-delta", data: '{"a":1}' }]);
    expect(parser.push("\n")).toEqual([{ id: "2", event: "message", data: "one\ntwo" }]);
  });

  it("takes a CR that ends one chunk and an LF that starts the next as one line ending", () => {
    const parser = new SseParser();
    expect(parser.push("data: x\r")).toEqual([]);
    expect(parser.push("\n\r\n")).toEqual([{ id: undefined, event: "message", data: "x" }]);
  });
});
