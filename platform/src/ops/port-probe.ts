import net from "node:net";

/** What binding `host:port` would meet: free, taken by some listener, or another reason it fails. */
export type PortState = { state: "free" } | { state: "taken" } | { state: "unavailable"; code: string; message: string };

/**
 * Binds `host:port` for an instant and lets go: the only true answer to "could a service listen
 * here?" (a connect test misses listeners on other addresses of the same port). Used by `npm start`
 * before it starts anything, and by `workforce doctor`.
 */
export function probePort(host: string, port: number): Promise<PortState> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve({ state: "taken" });
      else resolve({ state: "unavailable", code: error.code ?? "unknown", message: error.message });
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve({ state: "free" })));
  });
}

/** A port another process holds: which service wanted it, and the two ways out. */
export function portTaken(service: string, variable: string, host: string, port: number): { cause: string; fix: string } {
  return {
    cause: `port ${port} (${host}) for the ${service} is already in use by another process`,
    fix: `stop that process (find it with: lsof -i :${port}  or  ss -ltnp 'sport = :${port}'), or choose a free port with ${variable}.`,
  };
}

export function portTakenMessage(service: string, variable: string, host: string, port: number): string {
  const { cause, fix } = portTaken(service, variable, host, port);
  return `${cause}. Fix: ${fix}`;
}
