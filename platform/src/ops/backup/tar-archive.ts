import { createGzip, gunzipSync } from "node:zlib";
import { createWriteStream } from "node:fs";
import { once } from "node:events";

/**
 * A small tar (POSIX ustar, with pax headers for long names) writer and reader: enough for the
 * backup archive, which holds plain files only. Any `tar -xzf` reads what this writes.
 */
const BLOCK = 512;

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, "0") + "\0";
}

function header(name: string, size: number, type: "0" | "x", mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name.slice(0, 100), 0, "utf8");
  block.write(octal(0o600, 8), 100);
  block.write(octal(0, 8), 108);
  block.write(octal(0, 8), 116);
  block.write(octal(size, 12), 124);
  block.write(octal(mtime, 12), 136);
  block.write("        ", 148);
  block.write(type, 156);
  block.write("ustar\u000000", 257, "binary");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + " ", 148);
  return block;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** A pax record "<len> path=<name>\n", whose length counts itself. */
function paxPath(name: string): Buffer {
  const body = ` path=${name}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length += 1;
  return Buffer.from(`${length}${body}`);
}

/** The blocks of one file entry (a pax header first when the name does not fit ustar's 100 bytes). */
export function tarEntry(name: string, content: Buffer, mtime = Math.floor(Date.now() / 1000)): Buffer[] {
  const blocks: Buffer[] = [];
  if (Buffer.byteLength(name) > 100) {
    const pax = paxPath(name);
    blocks.push(header("PaxHeader", pax.length, "x", mtime), pax, padding(pax.length));
  }
  blocks.push(header(name, content.length, "0", mtime), content, padding(content.length));
  return blocks;
}

/** Writes a .tar.gz file entry by entry, so the archive is never held in memory whole. */
export class TarGzWriter {
  private readonly gzip = createGzip();
  private readonly file: ReturnType<typeof createWriteStream>;
  private readonly done: Promise<unknown>;

  constructor(filePath: string) {
    this.file = createWriteStream(filePath, { mode: 0o600 });
    this.gzip.pipe(this.file);
    this.done = once(this.file, "close");
  }

  async add(name: string, content: Buffer): Promise<void> {
    for (const block of tarEntry(name, content)) {
      if (!this.gzip.write(block)) await once(this.gzip, "drain");
    }
  }

  /** Ends the archive (two zero blocks) and waits until the file is written. */
  async close(): Promise<void> {
    this.gzip.end(Buffer.alloc(BLOCK * 2));
    await this.done;
  }
}

export interface TarFile {
  name: string;
  content: Buffer;
}

/** The files of a .tar.gz held in memory; throws on a truncated or malformed archive. */
export function readTarGz(archive: Buffer): TarFile[] {
  const tar = gunzipSync(archive);
  const files: TarFile[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= tar.length) {
    const block = tar.subarray(offset, offset + BLOCK);
    if (block.every((byte) => byte === 0)) return files;
    const size = parseInt(block.toString("ascii", 124, 136).replace(/\0.*$/, "").trim() || "0", 8);
    const type = String.fromCharCode(block[156] ?? 0x30);
    const start = offset + BLOCK;
    if (!Number.isFinite(size) || start + size > tar.length) throw new Error("the archive is truncated");
    const content = tar.subarray(start, start + size);
    offset = start + Math.ceil(size / BLOCK) * BLOCK;
    if (type === "x") {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(content.toString("utf8"))?.[1];
      continue;
    }
    const name = longName ?? block.toString("utf8", 0, 100).replace(/\0.*$/s, "");
    longName = undefined;
    if (type === "0" || type === "\0") files.push({ name, content: Buffer.from(content) });
  }
  throw new Error("the archive ends without its end-of-archive marker (truncated)");
}
