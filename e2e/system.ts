import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** A free TCP port on loopback (bind to 0, read it, release it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface RunningSystem {
  /** Where the platform writes mails (no SMTP_URL): read them with listOutbox from platform/src/mail/outbox-store.ts. */
  outboxDir: string;
  platformUrl: string;
  gatewayUrl: string;
  tenantDataDir: string;
  pgliteDataDir: string;
  hookToken: string;
  /** Everything the launcher printed, prefixed per service. */
  output: () => string;
  process: ChildProcess;
  stop: () => Promise<number | null>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Keep the temporary directories (e.g. to restart on the same data). */
  tenantDataDir?: string;
  pgliteDataDir?: string;
  timeoutMs?: number;
}

/**
 * Starts the whole system the way a user does (`npm start`, i.e. scripts/start.ts) on free ports,
 * with a temporary TENANT_DATA_DIR and PGlite directory, and waits until it says it is running.
 */
export async function startSystem(options: StartOptions = {}): Promise<RunningSystem> {
  const [platformPort, gatewayPort] = [await freePort(), await freePort()];
  const tenantDataDir = options.tenantDataDir ?? (await mkdtemp(path.join(os.tmpdir(), "wf-tenants-")));
  const pgliteDataDir = options.pgliteDataDir ?? (await mkdtemp(path.join(os.tmpdir(), "wf-db-")));
  const hookToken = `test-token-${Math.random().toString(36).slice(2)}`;
  // Mails and the master key of this system only, never the developer's ~/.workforce.
  const privateDir = await mkdtemp(path.join(os.tmpdir(), "wf-private-"));
  const outboxDir = path.join(privateDir, "outbox");
  const platformUrl = `http://127.0.0.1:${platformPort}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: "1",
    PORT: String(platformPort),
    CLAWDBOT_GATEWAY_URL: `http://127.0.0.1:${gatewayPort}`,
    CLAWDBOT_HOOK_TOKEN: hookToken,
    TENANT_DATA_DIR: tenantDataDir,
    PGLITE_DATA_DIR: pgliteDataDir,
    // Links in mails point where the browser goes.
    PUBLIC_URL: platformUrl,
    WORKFORCE_OUTBOX_DIR: outboxDir,
    WORKFORCE_SECRET_KEY_FILE: path.join(privateDir, "secret.key"),
    OFFLINE_MODEL_DELAY_MS: "2",
    ...options.env,
  };
  // Its own process group: if it must be killed, its services go with it instead of writing on
  // into directories the test is removing.
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "scripts", "start.ts")], {
    cwd: repoRoot,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));

  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (!output.includes("Workforce is running at")) {
    if (child.exitCode !== null) throw new Error(`system exited with ${child.exitCode} before it was ready:\n${output}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`system not ready after ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const ownsDirs = { tenant: !options.tenantDataDir, db: !options.pgliteDataDir };
  return {
    platformUrl,
    outboxDir,
    gatewayUrl: `http://127.0.0.1:${gatewayPort}`,
    tenantDataDir,
    pgliteDataDir,
    hookToken,
    output: () => output,
    process: child,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGINT");
      const killGroup = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
          // already gone
        }
      };
      // A loaded CI machine may take a while to stop both services cleanly; after that, the whole group.
      const timer = setTimeout(killGroup, 30_000);
      const code = await exited;
      clearTimeout(timer);
      killGroup(); // a service the launcher left behind (it was killed) goes too
      // maxRetries: a file a dying service wrote at the last moment (ENOTEMPTY) is removed on the next try.
      const gone = { recursive: true, force: true, maxRetries: 10, retryDelay: 100 } as const;
      if (ownsDirs.tenant) await rm(tenantDataDir, gone);
      if (ownsDirs.db) await rm(pgliteDataDir, gone);
      await rm(privateDir, gone);
      return code;
    },
  };
}
