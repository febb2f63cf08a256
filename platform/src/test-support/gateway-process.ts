import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./free-port";

const gatewayCli = fileURLToPath(new URL("../../../gateway/src/cli.ts", import.meta.url));

export interface GatewayProcess {
  url: string;
  port: number;
  dataDir: string;
  hookToken: string | undefined;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * The real gateway as the platform meets it: its own process, reached only over HTTP (the
 * platform never imports the gateway). Offline model, a fresh TENANT_DATA_DIR unless one is given.
 */
export async function startGatewayProcess(options: { hookToken?: string; dataDir?: string; env?: Record<string, string>; port?: number } = {}): Promise<GatewayProcess> {
  const port = options.port ?? (await freePort());
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), "wf-gateway-")));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    TENANT_DATA_DIR: dataDir,
    OFFLINE_MODEL_DELAY_MS: "0",
    ...(options.hookToken ? { CLAWDBOT_HOOK_TOKEN: options.hookToken } : {}),
    ...options.env,
  };
  const child = spawn(process.execPath, ["--import", "tsx", gatewayCli, "run", "--port", String(port), "--bind", "127.0.0.1"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true });
  };
  // It says "listening on" once it serves; a start-up failure ends the process instead.
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (output.includes("listening on")) resolve();
      else if (child.exitCode !== null) reject(new Error(`the gateway exited: ${output}`));
      else setTimeout(check, 50);
    };
    check();
  }).catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  return { url, port, dataDir, hookToken: options.hookToken, child, output: () => output, stop };
}
