import { closeSync, fdatasync, fsync, openSync, writeSync } from "node:fs";

/**
 * The small-file primitives behind appends and atomic writes. Opening, writing a few kilobytes
 * into the page cache, renaming and closing are microseconds each, so they run synchronously:
 * an asynchronous call costs more than that in thread-pool hand-offs, promises and wake-ups
 * (the gateway's profile showed ~70 of them per run). Only the flushes to disk, which take
 * milliseconds, go to the thread pool.
 */

/** fsync(2) off the event loop. */
export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (error) => (error ? reject(error) : resolve())));
}

/** fdatasync(2) off the event loop: data plus the metadata needed to read it back (the size), which is all an append needs. */
export function fdatasyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
}

/** Writes all of `data` at the current position (or the end, with O_APPEND); loops over short writes. */
export function writeAllSync(fd: number, data: string | Buffer): void {
  const buffer = typeof data === "string" ? Buffer.from(data, "utf8") : data;
  let written = 0;
  while (written < buffer.length) written += writeSync(fd, buffer, written, buffer.length - written);
}

/** Opens `file`, runs `task` with the descriptor and closes it whatever happens. */
export async function withFd<T>(file: string, flags: number, mode: number, task: (fd: number) => Promise<T>): Promise<T> {
  const fd = openSync(file, flags, mode);
  try {
    return await task(fd);
  } finally {
    closeSync(fd);
  }
}
