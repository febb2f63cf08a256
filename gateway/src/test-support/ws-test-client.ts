import WebSocket from "ws";

/** A frame as the tests read it: loose on purpose, so a malformed answer is still visible in a failure. */
export interface Frame {
  type: string;
  id?: string;
  ok?: boolean;
  payload?: unknown;
  error?: { code: string };
  event?: string;
  seq?: number;
  tenant?: string;
}

/**
 * A WebSocket client for tests: collects every frame, `until` waits for a predicate over them,
 * `opened` settles with the handshake. The socket is pushed to `sockets` so the caller's
 * after-hook can terminate it.
 */
export function connectTestSocket(url: string, headers: Record<string, string>, sockets: WebSocket[], protocols: string[] = []) {
  const socket = new WebSocket(url, protocols, { headers });
  sockets.push(socket);
  socket.on("error", () => undefined); // refused handshakes are asserted through `opened`
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  socket.on("message", (data: Buffer) => {
    frames.push(JSON.parse(data.toString()) as Frame);
    for (const wake of waiters.splice(0)) wake();
  });
  const until = async (predicate: (all: Frame[]) => boolean) => {
    while (!predicate(frames)) await new Promise<void>((resolve) => waiters.push(resolve));
    return frames;
  };
  const opened = new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("unexpected-response", (_request, response) => reject(new Error(`status ${response.statusCode}`)));
  });
  const request = (id: string, method: string, params?: unknown, extra: { tenant?: string } = {}) => socket.send(JSON.stringify({ type: "req", id, method, params, ...extra }));
  return { socket, frames, until, opened, request };
}
