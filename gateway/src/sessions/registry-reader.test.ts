import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { SessionSummary } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRegistryFile, registryFileText } from "./registry-files";
import { OFF_THREAD_BYTES, readRegistry } from "./registry-reader";

function sessions(count: number): SessionSummary[] {
  return Array.from({ length: count }, (_, index) => ({
    key: `session-${index}`,
    sessionId: `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`,
    title: `A conversation about thing ${index}`,
    createdAt: "2026-12-01T10:00:00.000Z",
    updatedAt: "2026-12-02T10:00:00.000Z",
    model: index % 2 ? "claude-sonnet-5-5" : null,
    inputTokens: index,
    outputTokens: 2 * index,
    messageCount: 2,
    lastMessagePreview: "The last thing said in this conversation, long enough to be a real preview",
  }));
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "registry-reader-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("reading sessions.json", () => {
  it("reads a large registry in a worker to the same sessions and stamp, while the event loop keeps turning", async () => {
    const file = path.join(dir, "large.json");
    const text = registryFileText(sessions(5_000), { fence: 7, generation: 3 });
    expect(Buffer.byteLength(text)).toBeGreaterThan(OFF_THREAD_BYTES);
    await writeFile(file, text);

    // Counts event-loop turns: parsing on the loop would leave this at one or two.
    let turns = 0;
    let loading = true;
    const turn = () => {
      turns += 1;
      if (loading) setImmediate(turn);
    };
    setImmediate(turn);
    const read = await readRegistry(file, { batchSize: 10 });
    loading = false;

    const expected = parseRegistryFile(text)!;
    expect(read).not.toBe("unreadable");
    const parsed = read as Exclude<typeof read, "unreadable" | undefined>;
    expect(parsed.stamp).toEqual({ fence: 7, generation: 3 });
    expect(parsed.sessions.size).toBe(5_000);
    expect(JSON.stringify([...parsed.sessions.entries()])).toBe(JSON.stringify([...expected.sessions.entries()]));
    // Five hundred batches of ten, each handed over in its own turn of the loop (reading the
    // file and parsing it inline would take a dozen turns or so, the parse none).
    expect(turns).toBeGreaterThanOrEqual(500);
  });

  it("calls a large registry with one bad entry, or cut short, unreadable; a missing one absent", async () => {
    const entries = sessions(5_000);
    const bad = JSON.parse(registryFileText(entries, undefined)) as Record<string, Record<string, unknown>>;
    bad["session-4500"]!.messageCount = -1;
    const badFile = path.join(dir, "bad.json");
    await writeFile(badFile, JSON.stringify(bad, null, 2));
    const cutFile = path.join(dir, "cut.json");
    const whole = registryFileText(entries, undefined);
    expect(Buffer.byteLength(whole)).toBeGreaterThan(OFF_THREAD_BYTES);
    await writeFile(cutFile, whole.slice(0, whole.length - 100));

    expect(await readRegistry(badFile)).toBe("unreadable");
    expect(await readRegistry(cutFile)).toBe("unreadable");
    expect(await readRegistry(path.join(dir, "missing.json"))).toBeUndefined();
  });

  it("reads a small registry inline, the same way", async () => {
    const file = path.join(dir, "small.json");
    await writeFile(file, registryFileText(sessions(3), undefined));
    const read = await readRegistry(file);
    expect(read !== "unreadable" && read?.sessions.get("session-2")?.title).toBe("A conversation about thing 2");
    await writeFile(file, "{ not json");
    expect(await readRegistry(file)).toBe("unreadable");
  });
});
