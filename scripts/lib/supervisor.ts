import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";
import { serviceLineFormatter } from "@workforce/logging";

/**
 * A child service whose output is passed on line by line: on a terminal prettified and prefixed
 * (`[gateway] [12:00:00.000] INFO: listening …`), otherwise as the JSON lines the services write.
 */
export interface Service {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

const COLORS: Record<string, string> = { gateway: "\x1b[36m", platform: "\x1b[35m", web: "\x1b[33m" };

export function prefixFor(name: string, color: boolean): string {
  const label = `[${name}]`;
  return color ? `${COLORS[name] ?? "\x1b[32m"}${label}\x1b[0m ` : `${label} `;
}

export function startService(
  name: string,
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd: string; color: boolean; pretty: boolean },
): Service {
  const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = options.pretty ? prefixFor(name, options.color) : "";
  const format = serviceLineFormatter({ pretty: options.pretty, color: options.color });
  for (const [stream, sink] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ] as const) {
    if (!stream) continue;
    readline.createInterface({ input: stream }).on("line", (line) => sink.write(prefix + format(name, line, sink === process.stderr) + "\n"));
  }
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : null)));
    child.on("error", (error) => {
      process.stderr.write(prefix + format(name, `failed to start: ${error.message}`, true) + "\n");
      resolve(1);
    });
  });
  return { name, child, exited };
}

/** Asks a service to stop (SIGTERM), and kills it if it is still there after `graceMs`. */
export async function stopService(service: Service, graceMs = 5000): Promise<void> {
  if (service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill("SIGTERM");
  const timer = setTimeout(() => service.child.kill("SIGKILL"), graceMs);
  await service.exited;
  clearTimeout(timer);
}

/** Polls `url` until it answers 2xx, the service exits, or `timeoutMs` passes. */
export async function waitForHealthy(url: string, service: Service, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void service.exited.then(() => {
    exited = true;
  });
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return false;
}
