/**
 * The embedded database's wire server (decision 050) takes whatever chunks the socket delivers:
 * messages split anywhere, and several messages in one chunk (pipelined queries, or a query's
 * Parse/Bind/Execute/Sync together, which it hands to PGlite in one call). A raw client controls
 * the chunking here; the `pg` driver's own use is covered by embedded-database-process.test.ts.
 */
import { PGlite } from "@electric-sql/pglite";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { servePgliteWire, type PgliteWireServer } from "./pglite-wire-server";

let db: PGlite;
let server: PgliteWireServer;
let dir: string;
let socketPath: string;

beforeAll(async () => {
  db = await PGlite.create();
  await db.exec("create table notes (id int primary key, body text not null)");
  dir = await mkdtemp(path.join(os.tmpdir(), "wf-wire-"));
  socketPath = path.join(dir, ".s.PGSQL.5432");
  server = await servePgliteWire(db, socketPath);
});

afterAll(async () => {
  await server.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

function startup(): Buffer {
  const body = Buffer.concat([Buffer.from([0, 3, 0, 0]), Buffer.from("user\0postgres\0database\0postgres\0\0")]);
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([length, body]);
}

function query(text: string): Buffer {
  const body = Buffer.from(`${text}\0`);
  const header = Buffer.alloc(5);
  header.write("Q", 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

/** The backend's messages, as type letters and (for DataRow) the first column's text. */
function readMessages(buffer: Buffer): { type: string; value?: string }[] {
  const messages: { type: string; value?: string }[] = [];
  let offset = 0;
  while (offset + 5 <= buffer.length) {
    const type = String.fromCharCode(buffer[offset]!);
    const length = buffer.readInt32BE(offset + 1);
    if (offset + 1 + length > buffer.length) break;
    if (type === "D") {
      const valueLength = buffer.readInt32BE(offset + 7);
      messages.push({ type, value: buffer.subarray(offset + 11, offset + 11 + valueLength).toString() });
    } else messages.push({ type });
    offset += 1 + length;
  }
  return messages;
}

/** Sends `bytes` in the given chunk sizes (one write each, waiting for each to drain) and collects the answer until `readyCount` ReadyForQuery. */
async function exchange(bytes: Buffer, chunkSizes: (index: number) => number, readyCount: number): Promise<{ type: string; value?: string }[]> {
  const socket = net.createConnection(socketPath);
  let received = Buffer.alloc(0);
  const done = new Promise<void>((resolve, reject) => {
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (readMessages(received).filter((message) => message.type === "Z").length >= readyCount) resolve();
    });
    socket.once("error", reject);
  });
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  for (let offset = 0, index = 0; offset < bytes.length; index += 1) {
    const size = Math.max(1, chunkSizes(index));
    const chunk = bytes.subarray(offset, offset + size);
    offset += size;
    await new Promise<void>((resolve, reject) => socket.write(chunk, (error) => (error ? reject(error) : resolve())));
  }
  await done;
  socket.end();
  return readMessages(received);
}

describe("the embedded database's wire server", () => {
  it("answers pipelined queries sent in one write, in order", async () => {
    const bytes = Buffer.concat([startup(), query("insert into notes values (1, 'one')"), query("select body from notes where id = 1"), query("select count(*)::text from notes")]);
    const messages = await exchange(bytes, () => bytes.length, 4);
    expect(messages.filter((message) => message.type === "D").map((message) => message.value)).toEqual(["one", "1"]);
    expect(messages.filter((message) => message.type === "E")).toEqual([]);
  });

  it("answers the same when every byte arrives on its own", async () => {
    const bytes = Buffer.concat([startup(), query("insert into notes values (2, 'two')"), query("select body from notes where id = 2")]);
    const messages = await exchange(bytes, () => 1, 3);
    expect(messages.filter((message) => message.type === "D").map((message) => message.value)).toEqual(["two"]);
    expect(messages.filter((message) => message.type === "E")).toEqual([]);
  });

  it("sends every answer intact when the socket cannot take it at once (PGlite hands out views of its memory)", async () => {
    // Two answers of 1 MB each come out of one call into PGlite, far more than the socket buffer
    // takes, so most of the first waits in Node's write queue while PGlite writes the second
    // into the same memory. The server must have copied the first (the 10,000-tenant bench hung
    // on a commit whose answer had been overwritten this way).
    const bytes = Buffer.concat([startup(), query("select repeat('a', 1000000)"), query("select repeat('b', 1000000)")]);
    const messages = await exchange(bytes, () => bytes.length, 3);
    expect(messages.filter((message) => message.type === "E")).toEqual([]);
    const values = messages.filter((message) => message.type === "D").map((message) => message.value);
    expect(values.map((value) => value?.length)).toEqual([1_000_000, 1_000_000]);
    expect(values[0]).toBe("a".repeat(1_000_000));
    expect(values[1]).toBe("b".repeat(1_000_000));
  });

  it("serves the pg driver's extended protocol (parameters, transactions) over the same socket", async () => {
    const client = new pg.Client({ host: dir, port: 5432, user: "postgres", database: "postgres" });
    await client.connect();
    try {
      await client.query("begin");
      for (let id = 10; id < 20; id += 1) await client.query("insert into notes values ($1, $2)", [id, `note ${id}`]);
      await client.query("commit");
      const { rows } = await client.query<{ body: string }>("select body from notes where id >= $1 order by id", [10]);
      expect(rows.map((row) => row.body)).toEqual(Array.from({ length: 10 }, (_, index) => `note ${index + 10}`));
      await expect(client.query("select * from no_such_table")).rejects.toThrow(/no_such_table/);
      expect((await client.query<{ n: string }>("select count(*)::text as n from notes")).rows[0]!.n).toBe("12");
    } finally {
      await client.end();
    }
  });
});
