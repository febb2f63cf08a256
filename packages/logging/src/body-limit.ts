import type { MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";

/** Bodies up to this size are read to the end before the 413 goes out; larger ones are not worth the bandwidth. */
export const DRAIN_OVERSIZED_BYTES = 16 * 1024 * 1024;

/**
 * Hono's body limit, answering the way a client can read: the 413 carries `Connection: close`
 * (the connection cannot carry another request), and first the rest of the body is read and
 * thrown away. Closing while the client is still uploading resets the connection, and a reset
 * discards the 413 still unread on the client's side: it saw "fetch failed: EPIPE" instead of the
 * answer. Both services use it, so the shared HTTP package holds it.
 */
export function limitBody(options: { maxSize: number; drainBytes?: number; tooLarge: () => Error }): MiddlewareHandler {
  return bodyLimit({
    maxSize: options.maxSize,
    onError: async (c) => {
      const declared = Number(c.req.header("content-length") ?? Number.NaN);
      if (declared <= (options.drainBytes ?? DRAIN_OVERSIZED_BYTES)) await discard(c.req.raw.body);
      throw options.tooLarge();
    },
  });
}

/** Reads a body nobody will use to its end; a client that hangs up meanwhile gets no answer anyway. */
async function discard(body: ReadableStream<Uint8Array> | null): Promise<void> {
  if (!body || body.locked) return;
  const reader = body.getReader();
  try {
    for (;;) if ((await reader.read()).done) return;
  } catch {
    // the client went away
  }
}
