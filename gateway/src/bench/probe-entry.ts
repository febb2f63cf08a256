import { randomUUID } from "node:crypto";
import type { TranscriptEntry } from "@workforce/protocol";

/** The message the append benchmarks persist: an ordinary short user entry, numbered. */
export function probeEntry(index: number): TranscriptEntry {
  return {
    type: "user",
    id: randomUUID(),
    parentId: null,
    timestamp: new Date().toISOString(),
    content: [{ type: "text", text: `Append cost probe ${index}: a short user message of ordinary length.` }],
  };
}
