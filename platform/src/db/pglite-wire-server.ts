import { unlink } from "node:fs/promises";
import net from "node:net";
import type { PGlite } from "@electric-sql/pglite";

/** The SSLRequest and CancelRequest codes of the Postgres wire protocol (startup messages without a type byte). */
const SSL_REQUEST = 80877103;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

export interface PgliteWireServer {
  close(): Promise<void>;
}

/**
 * Serves one PGlite over the Postgres wire protocol on a Unix socket, so the platform talks to its
 * embedded database with the same `pg` driver as to a Postgres server (decision 050). PGlite is one
 * session: connections are served one at a time, in the order they came; the next waits until the
 * one before closes. A connection that goes away mid-transaction is rolled back and its session
 * state (role, settings) discarded before the next is served, so nothing leaks between them.
 */
export async function servePgliteWire(pglite: PGlite, socketPath: string): Promise<PgliteWireServer> {
  let turn: Promise<void> = Promise.resolve();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.pause();
    const previous = turn;
    turn = previous.then(() => serveConnection(pglite, socket)).finally(() => sockets.delete(socket));
  });
  await unlink(socketPath).catch(() => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socketPath, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
      await turn.catch(() => undefined);
    },
  };
}

/** Length of the first complete message in `buffer`, or 0 when more bytes are needed. */
function messageLength(buffer: Buffer, startup: boolean): number {
  if (startup) {
    if (buffer.length < 4) return 0;
    const length = buffer.readInt32BE(0);
    return buffer.length >= length ? length : 0;
  }
  if (buffer.length < 5) return 0;
  const length = 1 + buffer.readInt32BE(1);
  return buffer.length >= length ? length : 0;
}

async function serveConnection(pglite: PGlite, socket: net.Socket): Promise<void> {
  if (socket.destroyed) return;
  let pending: Buffer = Buffer.alloc(0);
  let startup = true;
  let work: Promise<void> = Promise.resolve();
  const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => socket.destroy());
  const run = (message: Buffer) => {
    work = work
      .then(async () => {
        if (socket.destroyed) return;
        // `data` is a view of PGlite's wasm memory, reused by its next output: a write the socket
        // cannot take at once is queued by reference, so it must be a copy or the bytes sent later
        // are another answer's (a client then waits for good on a reply it never gets).
        await pglite.execProtocolRawStream(new Uint8Array(message), { onRawData: (data) => void (socket.destroyed || socket.write(Buffer.from(data))) });
      })
      .catch(() => void socket.destroy());
  };
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    for (;;) {
      if (!startup) {
        // Every complete message of the chunk in one call (a query's Parse/Bind/Execute/Sync come
        // together): PGlite runs them in one pass, not one wasm entry and one file sync each.
        let complete = 0;
        for (let length = messageLength(pending, false); length > 0; length = messageLength(pending.subarray(complete), false)) complete += length;
        if (complete === 0) return;
        run(Buffer.from(pending.subarray(0, complete)));
        pending = pending.subarray(complete);
        return;
      }
      const length = messageLength(pending, startup);
      if (length === 0) return;
      const message = Buffer.from(pending.subarray(0, length));
      pending = pending.subarray(length);
      const code = length >= 8 ? message.readInt32BE(4) : 0;
      // No TLS on a private socket: "N", and the client goes on in the clear.
      if (code === SSL_REQUEST) socket.write("N");
      else if (code === CANCEL_REQUEST) return void socket.end();
      else if (code === PROTOCOL_3) {
        startup = false;
        run(message);
      } else return void socket.destroy();
    }
  });
  socket.resume();
  await ended;
  await work;
  // What the connection left behind must not reach the next one.
  if (pglite.isInTransaction()) await pglite.exec("rollback").catch(() => undefined);
  await pglite.exec("discard all").catch(() => undefined);
}
