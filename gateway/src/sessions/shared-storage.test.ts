import { spawn } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TranscriptHeader, TranscriptLine } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger } from "../logger";
import { createSessionStore } from "./session-store";

const TENANT = "55555555-5555-4555-8555-555555555555";
const WORKER = fileURLToPath(new URL("../test-support/cluster-worker.ts", import.meta.url));
let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-shared-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

function runWorker(name: string, count: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", WORKER, dataDir, TENANT, "ada", name, String(count)], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => resolve({ code, output }));
  });
}

describe("sessions on storage shared by several gateway processes", () => {
  it("loses no registry entry and interleaves no transcript lines when two processes write to one agent at once", async () => {
    const count = 60;
    const results = await Promise.all([runWorker("a", count), runWorker("b", count)]);
    for (const result of results) expect(result, result.output).toMatchObject({ code: 0 });

    const paths = tenantPaths(dataDir, TENANT).agent("ada");
    const expectedKeys = ["shared", ...["a", "b"].flatMap((name) => Array.from({ length: count }, (_, index) => `own-${name}-${index}`))].sort();
    // sessions.json as the two processes left it, before any reload could repair it.
    const onDisk = JSON.parse(await readFile(paths.registry, "utf8")) as Record<string, { messageCount: number }>;
    expect(Object.keys(onDisk).sort()).toEqual(expectedKeys);
    expect(onDisk.shared?.messageCount).toBe(2 * count);

    // Every transcript line is whole and valid; the shared one has each process's messages once, in each process's order.
    const transcripts = (await readdir(paths.sessionsDir)).filter((name) => name.endsWith(".jsonl") && name !== "sessions.journal.jsonl");
    expect(transcripts).toHaveLength(expectedKeys.length);
    let shared: string[] = [];
    for (const name of transcripts) {
      const lines = (await readFile(path.join(paths.sessionsDir, name), "utf8")).split("\n");
      expect(lines.at(-1)).toBe("");
      const header = TranscriptHeader.parse(JSON.parse(lines[0]!));
      const texts = lines.slice(1, -1).flatMap((line) => {
        const parsed = TranscriptLine.parse(JSON.parse(line));
        return parsed.type === "user" ? [parsed.content[0]!.text.split(" ").slice(0, 2).join(" ")] : [];
      });
      if (header.key === "shared") shared = texts;
      else expect(texts).toHaveLength(1);
    }
    for (const name of ["a", "b"]) expect(shared.filter((text) => text.startsWith(`${name} `))).toEqual(Array.from({ length: count }, (_, index) => `${name} ${index}`));

    // A fresh process sees the same, with the last rename as the shared session's title.
    const store = createSessionStore({ dataDir, logger: silentLogger, now: () => new Date() });
    const listed = await store.list({ tenantId: TENANT, agent: "ada" });
    expect(listed.map((session) => session.key).sort()).toEqual(expectedKeys);
    expect(listed.find((session) => session.key === "shared")?.title).toMatch(/^renamed by [ab] 50$/);
    await store.flushAll();
    // No lock files or temp files are left behind.
    expect((await readdir(paths.sessionsDir)).filter((name) => name.includes(".lock") || name.endsWith(".tmp"))).toEqual([]);
  }, 60_000);
});
