/**
 * The embedded database's own process (decision 050): the platform forks it when it runs on
 * PGlite without DATABASE_URL, migrates it and talks to it over a private Unix socket with its
 * Postgres driver, so PGlite's WebAssembly neither runs on the platform's event loop nor counts in its
 * memory. Spoken to over the IPC channel only (messages below); it ends when the platform does.
 */
import { z } from "zod";
import { openPgliteStore } from "./pglite-store";
import { DatabaseInUseError } from "./pglite-lock";
import { compilePgliteWasm } from "./pglite-wasm";
import { servePgliteWire, type PgliteWireServer } from "./pglite-wire-server";

const Request = z.discriminatedUnion("type", [
  z.object({ type: z.literal("open"), dataDir: z.string(), templateDir: z.string().optional(), migrations: z.array(z.string()), socketPath: z.string() }),
  z.object({ type: z.literal("dump"), id: z.number() }),
]);

/** What this process tells the platform. */
export type EmbeddedDatabaseReply =
  | { type: "ready"; seededFromTemplate: boolean }
  | { type: "failed"; message: string; inUse?: { dataDir: string; holder: { pid: number; hostname: string; since: string } } }
  | { type: "dumped"; id: number; data?: Uint8Array; error?: string };

/**
 * Started at once, before the platform says which directory to open: the platform forks this
 * process early in its own start-up, so compiling PGlite's WebAssembly overlaps with the platform
 * loading and with the template copy instead of following them.
 */
const compiling = compilePgliteWasm();
// Loaded meanwhile too (openPgliteStore imports it again, from the module cache); its errors surface there.
void import("@electric-sql/pglite").catch(() => undefined);

let opened: Awaited<ReturnType<typeof openPgliteStore>> | undefined;
let server: PgliteWireServer | undefined;
let closing: Promise<void> | undefined;

const send = (reply: EmbeddedDatabaseReply) => {
  if (process.connected) process.send?.(reply);
};

function shutDown(code: number): Promise<void> {
  closing ??= (async () => {
    await server?.close().catch(() => undefined);
    await opened?.close().catch(() => undefined);
    process.exit(code);
  })();
  return closing;
}

async function handle(raw: unknown): Promise<void> {
  const request = Request.parse(raw);
  if (request.type === "open") {
    try {
      opened = await openPgliteStore({ ...request, wasmModule: compiling });
      server = await servePgliteWire(opened.pglite, request.socketPath);
      send({ type: "ready", seededFromTemplate: opened.seededFromTemplate });
    } catch (error) {
      const inUse = error instanceof DatabaseInUseError ? { dataDir: error.dataDir, holder: error.holder } : undefined;
      send({ type: "failed", message: error instanceof Error ? error.message : String(error), ...(inUse ? { inUse } : {}) });
      await shutDown(1);
    }
    return;
  }
  // The platform holds the database's one connection, after a checkpoint, while this runs.
  try {
    const dump = await opened!.pglite.dumpDataDir("gzip");
    send({ type: "dumped", id: request.id, data: new Uint8Array(await dump.arrayBuffer()) });
  } catch (error) {
    send({ type: "dumped", id: request.id, error: error instanceof Error ? error.message : String(error) });
  }
}

process.on("message", (message) => void handle(message).catch(() => shutDown(1)));
// The platform went away (stopped, or killed): nobody is left to serve.
process.on("disconnect", () => void shutDown(0));
process.on("SIGTERM", () => void shutDown(0));
// Ctrl-C reaches the whole process group: the platform decides when this process ends (it drains first).
process.on("SIGINT", () => undefined);
