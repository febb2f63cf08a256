/**
 * A full garbage collection in a running service, from the outside and with no code of the bench
 * inside it: the service is spawned with `--inspect-port=0` (which only chooses the port; nothing
 * listens until asked), SIGUSR1 opens Node's inspector, and the Chrome DevTools protocol's
 * `HeapProfiler.collectGarbage` runs the GC. Used for "RSS after load, after a GC" (issue 17), so
 * the figure is what the process keeps, not garbage it has not collected yet.
 *
 * The inspector stays open afterwards (a listening socket and a few hundred KB): read every figure
 * that should not include it before calling this.
 */
import WebSocket from "ws";
import { sleep, type ChildService } from "./services";

/** The node flag a service needs for `collectGarbage`: a free port when the inspector is opened. */
export const INSPECT_ON_SIGNAL = "--inspect-port=0";

const LISTENING = /Debugger listening on (ws:\/\/\S+)/g;

/** The inspector's WebSocket URL, opening the inspector (SIGUSR1) if it is not open yet. */
async function inspectorUrl(service: ChildService, timeoutMs: number): Promise<string> {
  const last = () => [...service.output().matchAll(LISTENING)].at(-1)?.[1];
  const open = last();
  if (open) return open;
  service.child.kill("SIGUSR1");
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(20)) {
    const url = last();
    if (url) return url;
  }
  throw new Error(`${service.name} did not open its inspector (started without ${INSPECT_ON_SIGNAL}?)`);
}

/** Runs a full GC in `service` and resolves when it is done. */
export async function collectGarbage(service: ChildService, timeoutMs = 10_000): Promise<void> {
  const url = await inspectorUrl(service, timeoutMs);
  const socket = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${service.name}: no answer to HeapProfiler.collectGarbage within ${timeoutMs} ms`)), timeoutMs);
      socket.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once("open", () => socket.send(JSON.stringify({ id: 1, method: "HeapProfiler.collectGarbage" })));
      socket.on("message", (data: WebSocket.RawData) => {
        const message = JSON.parse(Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString("utf8")) as { id?: number; error?: { message: string } };
        if (message.id !== 1) return;
        clearTimeout(timer);
        if (message.error) reject(new Error(`${service.name}: HeapProfiler.collectGarbage: ${message.error.message}`));
        else resolve();
      });
    });
  } finally {
    socket.close();
  }
}
