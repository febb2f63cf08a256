import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../platform/src/test-support/free-port";
import { repoRoot } from "./build";

let home: string;
let other: http.Server;
let otherPort: number;

/** Another instance on the port: it answers every health check with 200, as a running Workforce would. */
beforeAll(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), "wf-start-port-"));
  other = http.createServer((_request, response) => response.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}'));
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  otherPort = (other.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise((resolve) => other.close(resolve));
  await rm(home, { recursive: true, force: true });
});

function npmStart(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // What `npm start` runs: the launcher's bundle when it is up to date, its source otherwise.
  const child = spawn(process.execPath, [path.join(repoRoot, "scripts", "launch.js")], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? "", HOME: home, XDG_DATA_HOME: path.join(home, "data"), NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

describe("npm start when a port is already taken", { timeout: 60_000 }, () => {
  it("says the platform's port is in use and exits 1, never 'Workforce is running'", async () => {
    const result = await npmStart({ PORT: String(otherPort), CLAWDBOT_GATEWAY_URL: `http://127.0.0.1:${await freePort()}` });
    expect(result.stderr).toContain(`Cannot start Workforce: port ${otherPort} (127.0.0.1) for the platform is already in use by another process.`);
    expect(result.stderr).toContain("choose a free port with PORT");
    expect(result.stdout).not.toContain("Workforce is running");
    expect(result.code).toBe(1);
  });

  it("says the gateway's port is in use and exits 1", async () => {
    const result = await npmStart({ PORT: String(await freePort()), CLAWDBOT_GATEWAY_URL: `http://127.0.0.1:${otherPort}` });
    expect(result.stderr).toContain(`port ${otherPort} (127.0.0.1) for the gateway is already in use`);
    expect(result.stderr).toContain("CLAWDBOT_GATEWAY_URL");
    expect(result.stdout).not.toContain("Workforce is running");
    expect(result.code).toBe(1);
  });
});
