import { stat } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { isNotFound } from "../fs/errno";
import { RegistryAccumulator, parseRegistryFile, readOptional, type ParsedRegistry } from "./registry-files";

/**
 * sessions.json files at least this large are parsed off the event loop. A 100,000-session
 * registry is ~44 MB: `JSON.parse` alone held the gateway's event loop for about a second, so
 * every other tenant's requests waited. Smaller files are parsed inline (a worker costs ~20 ms
 * to start, more than parsing a few thousand entries).
 */
export const OFF_THREAD_BYTES = 1 << 20;

/** Entries handed over per batch: each batch is a few milliseconds of work on the event loop. */
const BATCH_SIZE = 1_000;

/**
 * The worker: reads and parses the file, then hands its entries over a batch at a time, waiting
 * after each until the event loop has taken it (the main thread would otherwise receive every
 * batch in one go: Node delivers all queued messages of a port in one callback). Plain JavaScript
 * evaluated as a script, so it needs no bundling and no TypeScript loader.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { readFileSync } = require("node:fs");
const taken = new Int32Array(workerData.taken);
function main() {
  let text;
  try {
    text = readFileSync(workerData.file, "utf8");
  } catch (error) {
    parentPort.postMessage({ kind: error && error.code === "ENOENT" ? "missing" : "failed", message: String(error && error.message) });
    return;
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    parentPort.postMessage({ kind: "invalid" });
    return;
  }
  text = undefined;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    parentPort.postMessage({ kind: "invalid" });
    return;
  }
  let sent = 0;
  let batch = [];
  const send = () => {
    parentPort.postMessage({ kind: "entries", entries: batch });
    batch = [];
    sent += 1;
    while (Atomics.load(taken, 0) < sent) Atomics.wait(taken, 0, sent - 1, 1000);
  };
  for (const key of Object.keys(body)) {
    batch.push([key, body[key]]);
    if (batch.length === workerData.batchSize) send();
  }
  if (batch.length > 0) send();
  parentPort.postMessage({ kind: "done" });
}
main();
`;

type WorkerMessage = { kind: "entries"; entries: [string, unknown][] } | { kind: "done" } | { kind: "invalid" } | { kind: "missing" } | { kind: "failed"; message: string };

/**
 * sessions.json's entries and newest stamp; `undefined` when the file is missing, `"unreadable"`
 * when it is not a valid registry (the caller rebuilds it from the transcripts). Large files are
 * read and parsed in a worker thread and validated here a batch per event-loop turn, so loading
 * a big registry never holds the loop for long.
 */
export async function readRegistry(file: string, options: { batchSize?: number } = {}): Promise<ParsedRegistry | "unreadable" | undefined> {
  let size: number;
  try {
    size = (await stat(file)).size;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
  if (size < OFF_THREAD_BYTES) {
    const text = await readOptional(file);
    if (text === undefined) return undefined;
    return parseRegistryFile(text) ?? "unreadable";
  }
  return readInWorker(file, options.batchSize ?? BATCH_SIZE);
}

function readInWorker(file: string, batchSize: number): Promise<ParsedRegistry | "unreadable" | undefined> {
  const taken = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, batchSize, taken: taken.buffer }, execArgv: [], env: {} });
  const accumulator = new RegistryAccumulator();
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      void worker.terminate();
      outcome();
    };
    worker.on("message", (message: WorkerMessage) => {
      switch (message.kind) {
        case "entries": {
          if (!accumulator.addAll(message.entries)) return finish(() => resolve("unreadable"));
          // Let the event loop serve others before the next batch comes.
          setImmediate(() => {
            Atomics.add(taken, 0, 1);
            Atomics.notify(taken, 0);
          });
          return;
        }
        case "done":
          return finish(() => resolve(accumulator.result()));
        case "invalid":
          return finish(() => resolve("unreadable"));
        case "missing":
          return finish(() => resolve(undefined));
        case "failed":
          return finish(() => reject(new Error(`could not read ${file}: ${message.message}`)));
      }
    });
    worker.on("error", (error) => finish(() => reject(error)));
    worker.on("exit", (code) => finish(() => reject(new Error(`the worker reading ${file} stopped (exit code ${code}) before it finished`))));
  });
}
