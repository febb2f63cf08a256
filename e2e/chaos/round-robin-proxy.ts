/**
 * A TCP round-robin balancer for the chaos test, behaving like a real load balancer in front of
 * the gateways: each new connection goes to the next gateway, one that refuses the connection
 * (killed, still restarting) is skipped, and a connection whose gateway dies is reset on the
 * client side too. It speaks TCP only, so HTTP, SSE and WebSocket upgrades pass unchanged.
 */
import net from "node:net";

export interface RoundRobinProxy {
  url: string;
  /** Connections accepted and passed to a gateway, and connections refused because every gateway refused. */
  stats: { forwarded: number; refused: number };
  close(): Promise<void>;
}

/** Listens on a free loopback port and spreads connections over `backends` (ports on 127.0.0.1). */
export async function startRoundRobinProxy(backends: () => readonly number[]): Promise<RoundRobinProxy> {
  let next = 0;
  const stats = { forwarded: 0, refused: 0 };
  const open = new Set<net.Socket>();

  const connectTo = (port: number) =>
    new Promise<net.Socket | undefined>((resolve) => {
      const upstream = net.connect({ host: "127.0.0.1", port });
      upstream.once("connect", () => resolve(upstream));
      upstream.once("error", () => resolve(undefined));
    });

  const server = net.createServer((client) => {
    open.add(client);
    client.once("close", () => open.delete(client));
    client.on("error", () => client.destroy());
    client.pause();
    void (async () => {
      const ports = backends();
      for (let tried = 0; tried < ports.length; tried += 1) {
        const port = ports[next++ % ports.length]!;
        const upstream = await connectTo(port);
        if (!upstream) continue;
        if (client.destroyed) return upstream.destroy();
        stats.forwarded += 1;
        open.add(upstream);
        upstream.once("close", () => {
          open.delete(upstream);
          client.destroy();
        });
        upstream.on("error", () => upstream.destroy());
        client.once("close", () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
        return;
      }
      stats.refused += 1;
      client.destroy();
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
