import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { serve, type ServerType } from "@hono/node-server";
import type { Hono } from "hono";
import type { GatewayEnv } from "./gateway-env";

export interface RunningServer {
  server: ServerType;
  /** The actual address (port 0 resolves to a free port). */
  address: AddressInfo;
  url: string;
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Serves the app over HTTP on `host:port`; rejects when the port cannot be bound. */
export function startServer(
  app: Hono<GatewayEnv>,
  port: number,
  host: string,
  onUpgrade?: (request: IncomingMessage, socket: Duplex, head: Buffer) => void,
): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
      server.off("error", reject);
      resolve({
        server,
        address: info,
        url: `http://${hostForUrl(host === "0.0.0.0" || host === "::" ? host : info.address)}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            if ("closeAllConnections" in server) server.closeAllConnections();
          }),
      });
    });
    server.once("error", reject);
    if (onUpgrade) server.on("upgrade", onUpgrade);
  });
}
