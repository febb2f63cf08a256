/**
 * Transcript append cost vs. the raw floor on the same disk, in this process:
 * - raw: open(append) + write one line + fsync + close (what `fs.appendFile` + fsync costs);
 * - transcript: the gateway's appendTranscriptEntries (same, plus a stat and a 1-byte read to repair a torn last line);
 * - store: the gateway's SessionStore.append, everything a run does to persist one message
 *   (transcript append, re-read and summary, registry journal append + fsync, compaction).
 * The store is measured at the smallest and the largest session count of the scaling phase.
 */
import { randomUUID } from "node:crypto";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { probeEntry as entry } from "../../gateway/src/bench/probe-entry";
import { silentLogger } from "../../gateway/src/logger";
import { createSessionStore } from "../../gateway/src/sessions/session-store";
import { appendTranscriptEntries } from "../../gateway/src/sessions/transcript";
import type { AppendResult, BenchContext } from "../lib/context";
import { summarize, type Summary } from "../lib/stats";
import { generateSessions } from "./sessions";

async function time(samples: number, task: (index: number) => Promise<void>): Promise<Summary> {
  const times: number[] = [];
  for (let index = 0; index < samples + 20; index += 1) {
    const started = performance.now();
    await task(index);
    if (index >= 20) times.push(performance.now() - started);
  }
  return summarize(times);
}

export async function measureAppend(context: BenchContext): Promise<AppendResult> {
  const { options, log } = context;
  const dir = await mkdtemp(path.join(os.tmpdir(), "wf-bench-append-"));
  try {
    const rawFile = path.join(dir, "raw.jsonl");
    const raw = await time(options.appendSamples, async (index) => {
      const handle = await open(rawFile, "a");
      try {
        await handle.appendFile(JSON.stringify(entry(index)) + "\n");
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
    const transcriptFile = path.join(dir, "transcript.jsonl");
    await writeFile(transcriptFile, "");
    const transcript = await time(options.appendSamples, (index) => appendTranscriptEntries(transcriptFile, [entry(index)]));

    const storeAt: Record<number, Summary> = {};
    const sizes = [...new Set([options.sessionSizes[0] ?? 10, options.sessionSizes.at(-1) ?? 10])];
    for (const size of sizes) {
      const dataDir = await mkdtemp(path.join(dir, `store-${size}-`));
      const tenant = { tenantId: randomUUID(), slug: "bench-agent", headers: {} };
      const keys = await generateSessions(dataDir, tenant, size);
      const store = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date() });
      const ref = { tenantId: tenant.tenantId, agent: tenant.slug };
      await store.list(ref);
      storeAt[size] = await time(options.appendSamples, async (index) => {
        await store.append(ref, keys[(index * 7919) % keys.length]!, [entry(index)]);
      });
      await store.flushAll();
      await rm(dataDir, { recursive: true, force: true });
    }
    const store = storeAt[sizes[0]!]!;
    log(
      `  raw append+fsync median ${raw.median.toFixed(3)} ms; transcript append ${transcript.median.toFixed(3)} ms; store.append ${Object.entries(storeAt)
        .map(([size, summary]) => `${size} sessions ${summary.median.toFixed(3)} ms`)
        .join(", ")}`,
    );
    return { raw, transcript, store, storeAt, disk: os.tmpdir() };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
