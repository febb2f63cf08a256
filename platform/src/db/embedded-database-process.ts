import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { EmbeddedDatabaseReply } from "./embedded-database-main";
import { DatabaseInUseError } from "./pglite-lock";

/** The embedded database running in its own process (decision 050), listening on `socketDir`. */
export interface EmbeddedDatabaseProcess {
  /** Directory of its Unix socket (`.s.PGSQL.5432`): the `host` for the pg driver. */
  socketDir: string;
  seededFromTemplate: boolean;
  /** The process id now (it changes when the process is restarted). */
  pid(): number | undefined;
  /** The data directory as a gzipped tar; the caller holds the one connection, after a checkpoint. */
  dump(): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface EmbeddedDatabaseOptions {
  dataDir: string;
  templateDir?: string | undefined;
  /** The migrations the platform knows (a template must hold a prefix of them). */
  migrations: string[];
  /** Told when the process died and is being restarted. */
  onRestart?: (message: string) => void;
  /** Told when it cannot be brought back (died again and again, or refused to open): the platform should stop. */
  onFatal?: (message: string) => void;
}

/** Restarts allowed within RESTART_WINDOW_MS before giving up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/** How to run the database's entry: the bundle beside the platform's, or the source through tsx. */
function entry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith(".ts")) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
    return { file: path.join(path.dirname(here), "embedded-database-main.ts"), execArgv: ["--import", tsx] };
  }
  // In a bundle this code sits in main.js or in one of its chunks (dist/chunks/).
  const dir = path.basename(path.dirname(here)) === "chunks" ? path.dirname(path.dirname(here)) : path.dirname(here);
  return { file: path.join(dir, "embedded-database.js"), execArgv: [] };
}

interface Started {
  child: ChildProcess;
  ready: Extract<EmbeddedDatabaseReply, { type: "ready" }>;
  exited: Promise<void>;
}

async function spawnDatabase(options: EmbeddedDatabaseOptions, socketPath: string, onReply: (reply: EmbeddedDatabaseReply) => void): Promise<Started> {
  const { file, execArgv } = entry();
  const child = fork(file, [], { execArgv, serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const ready = await new Promise<Extract<EmbeddedDatabaseReply, { type: "ready" }>>((resolve, reject) => {
    child.on("message", (message: EmbeddedDatabaseReply) => {
      if (message.type === "ready") resolve(message);
      else if (message.type === "failed") reject(message.inUse ? new DatabaseInUseError(message.inUse.dataDir, message.inUse.holder) : new Error(message.message));
      else onReply(message);
    });
    child.once("error", reject);
    void exited.then(() => reject(new Error(`the embedded database process exited while opening ${options.dataDir}`)));
    child.send({ type: "open", dataDir: options.dataDir, templateDir: options.templateDir, migrations: options.migrations, socketPath });
  });
  return { child, ready, exited };
}

/**
 * Starts the embedded database's process and waits until it serves. If it dies later, it is
 * started again on the same socket (queries in between fail as `database_unavailable`); only
 * after the old one has exited, so two never have the directory open. Restarted more than
 * MAX_RESTARTS times in a minute, it is left down and `onFatal` is told.
 */
export async function startEmbeddedDatabase(options: EmbeddedDatabaseOptions): Promise<EmbeddedDatabaseProcess> {
  // A private directory (0700): the socket is the database's superuser, for this user only.
  // Synchronously, like the fork below: the process starts before the caller goes on (main.ts loads the rest of the platform next).
  const socketDir = mkdtempSync(path.join(os.tmpdir(), "workforce-db-"));
  const socketPath = path.join(socketDir, ".s.PGSQL.5432");
  const dumps = new Map<number, { resolve: (data: Uint8Array) => void; reject: (error: Error) => void }>();
  let nextDump = 0;
  const onReply = (reply: EmbeddedDatabaseReply) => {
    if (reply.type !== "dumped") return;
    const waiting = dumps.get(reply.id);
    dumps.delete(reply.id);
    // A copy of exactly the dump: what arrives may be a view into a larger buffer, and callers send `.buffer`.
    if (reply.data) waiting?.resolve(new Uint8Array(reply.data));
    else waiting?.reject(new Error(reply.error ?? "the dump failed"));
  };
  let current: Started;
  try {
    current = await spawnDatabase(options, socketPath, onReply);
  } catch (error) {
    await rm(socketDir, { recursive: true, force: true });
    throw error;
  }
  const first = current.ready;
  let closing = false;
  const restarts: number[] = [];
  const watch = (started: Started) => {
    void started.exited.then(async () => {
      for (const [id, waiting] of dumps) {
        dumps.delete(id);
        waiting.reject(new Error("the embedded database process exited"));
      }
      if (closing) return;
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
      const how = `the embedded database process (pid ${started.child.pid}) exited (${started.child.exitCode ?? started.child.signalCode})`;
      if (restarts.length > MAX_RESTARTS) return options.onFatal?.(`${how}, ${MAX_RESTARTS} times within a minute; not restarting it`);
      options.onRestart?.(`${how}; restarting it`);
      try {
        current = await spawnDatabase(options, socketPath, onReply);
        watch(current);
      } catch (error) {
        options.onFatal?.(`${how}, and restarting it failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
  };
  watch(current);
  return {
    socketDir,
    seededFromTemplate: first.seededFromTemplate,
    pid: () => (current.child.exitCode === null && current.child.signalCode === null ? current.child.pid : undefined),
    dump: () =>
      new Promise<Uint8Array>((resolve, reject) => {
        const id = nextDump++;
        dumps.set(id, { resolve, reject });
        if (!current.child.connected) {
          dumps.delete(id);
          reject(new Error("the embedded database process is not running"));
        } else current.child.send({ type: "dump", id });
      }),
    async close() {
      closing = true;
      const { child, exited } = current;
      // Closing the channel is its signal to close PGlite and exit; killed if it hangs.
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
      await rm(socketDir, { recursive: true, force: true });
    },
  };
}
