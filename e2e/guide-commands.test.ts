/**
 * The deployment guide's commands, run as an operator types them (README "The guide's commands"):
 * `gateway run --port … --bind 0.0.0.0`, `NODE_ENV=production npm start` in platform/, `npm run dev`
 * in platform/ (watch mode) and in platform/web (the Vite dev server proxying /api and /auth/v1).
 * Also the 413 of both services on a kept-alive connection: the client's next request must work.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ApiErrorBody } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, repoRoot } from "./system";

interface Started {
  child: ChildProcess;
  output: () => string;
}

const started: ChildProcess[] = [];
let scratch: string;
let env: NodeJS.ProcessEnv;
let gatewayUrl: string;
let platformUrl: string;
const hookToken = `guide-${Math.random().toString(36).slice(2)}`;

/** Runs a command in its own process group (npm starts children) and waits until its output matches `ready`. */
async function start(command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv; ready: RegExp; timeoutMs?: number }): Promise<Started> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
  started.push(child);
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + (options.timeoutMs ?? 90_000);
  while (!options.ready.test(output)) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(" ")} exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`${command} ${args.join(" ")} not ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output };
}

async function stopAll(): Promise<void> {
  await Promise.all(
    started.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const group = child.pid;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      process.kill(-group, "SIGTERM");
      const timer = setTimeout(() => signalGroup(group, "SIGKILL"), 10_000);
      await exited;
      // npm (the group's leader) may exit before the service it started has closed its database:
      // wait for the whole group, so nothing still writes while the scratch directory is removed.
      for (let waited = 0; signalGroup(group, 0) && waited < 30_000; waited += 100) await new Promise((resolve) => setTimeout(resolve, 100));
      signalGroup(group, "SIGKILL");
      clearTimeout(timer);
    }),
  );
}

/** Signals a process group; false when none of it is left. */
function signalGroup(group: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-group, signal);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), "wf-guide-"));
  const [gatewayPort, platformPort] = [await freePort(), await freePort()];
  gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
  platformUrl = `http://127.0.0.1:${platformPort}`;
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NO_COLOR: "1",
    TENANT_DATA_DIR: path.join(scratch, "tenants"),
    CLAWDBOT_HOOK_TOKEN: hookToken,
    CLAWDBOT_GATEWAY_URL: gatewayUrl,
    WORKFORCE_SECRET_KEY_FILE: path.join(scratch, "secret.key"),
    WORKFORCE_OUTBOX_DIR: path.join(scratch, "outbox"),
    OFFLINE_MODEL_DELAY_MS: "1",
  };
  // The guide's production gateway: reachable from other hosts (so the token is required).
  await start(path.join(repoRoot, "node_modules", ".bin", "gateway"), ["run", "--port", String(gatewayPort), "--bind", "0.0.0.0"], {
    cwd: repoRoot,
    env,
    ready: /listening on http:\/\/0\.0\.0\.0:\d+/,
  });
  await start("npm", ["start"], {
    cwd: path.join(repoRoot, "platform"),
    env: { ...env, NODE_ENV: "production", PORT: String(platformPort), PUBLIC_URL: platformUrl, PGLITE_DATA_DIR: path.join(scratch, "db") },
    ready: /listening on http:\/\/127\.0\.0\.1:\d+/,
    timeoutMs: 180_000,
  });
}, 240_000);

afterAll(async () => {
  await stopAll();
  if (scratch) await rm(scratch, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

describe("the guide's production commands", () => {
  it("serve both services: the gateway on every interface behind its token, the platform from its bundle", async () => {
    const gateway = await fetch(`${gatewayUrl}/`, { headers: { authorization: `Bearer ${hookToken}` } });
    expect(await gateway.json()).toMatchObject({ status: "ok", dataDir: { path: env.TENANT_DATA_DIR } });
    expect((await fetch(`${gatewayUrl}/v1/agents`, { headers: { "x-tenant-id": "11111111-1111-4111-8111-111111111111" } })).status).toBe(401);
    const platform = await fetch(`${platformUrl}/api/health`);
    expect(await platform.json()).toMatchObject({ status: "ok" });
  });

  it("refuse to bind the gateway beyond loopback without a token, naming the fix", async () => {
    const child = spawn(path.join(repoRoot, "node_modules", ".bin", "gateway"), ["run", "--port", "0", "--bind", "0.0.0.0"], {
      cwd: repoRoot,
      env: { ...env, CLAWDBOT_HOOK_TOKEN: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    expect(await new Promise((resolve) => child.on("exit", resolve))).not.toBe(0);
    expect(output).toMatch(/refusing to bind 0\.0\.0\.0 without CLAWDBOT_HOOK_TOKEN/);
  });

  it("answer an oversized body 413 with Connection: close on both services, and the client's next request succeeds", async () => {
    const body = "x".repeat(2 * 1024 * 1024);
    const targets: { refused: string; next: string; headers: Record<string, string> }[] = [
      { refused: `${platformUrl}/api/tenants`, next: `${platformUrl}/api/config`, headers: { "content-type": "application/json" } },
      {
        refused: `${gatewayUrl}/v1/agents`,
        next: `${gatewayUrl}/v1/agents`,
        headers: { "content-type": "application/json", authorization: `Bearer ${hookToken}`, "x-tenant-id": "11111111-1111-4111-8111-111111111111" },
      },
    ];
    for (const target of targets) {
      for (let round = 0; round < 3; round += 1) {
        // fetch keeps connections alive: without Connection: close the next request reused the socket being closed.
        const refused = await fetch(target.refused, { method: "POST", headers: target.headers, body });
        expect(refused.status).toBe(413);
        expect(refused.headers.get("connection")).toBe("close");
        expect(ApiErrorBody.parse(await refused.json()).error.code).toBe("payload_too_large");
        await new Promise((resolve) => setTimeout(resolve, 200 * round));
        expect((await fetch(target.next, { headers: target.headers })).status).toBe(200);
      }
    }
  });
});

describe("the guide's development commands", () => {
  it("npm run dev in platform/web serves the app and forwards /api and /auth/v1 to the platform", async () => {
    const port = await freePort();
    const vite = await start("npm", ["run", "dev", "--", "--port", String(port), "--strictPort", "--host", "127.0.0.1"], {
      cwd: path.join(repoRoot, "platform", "web"),
      env: { ...env, WORKFORCE_PLATFORM_URL: platformUrl },
      ready: /Local:\s+http:\/\/127\.0\.0\.1:\d+/,
    });
    const devUrl = `http://127.0.0.1:${port}`;
    const viaProxy = await fetch(`${devUrl}/api/config`);
    expect(viaProxy.status).toBe(200);
    expect(await viaProxy.json()).toEqual(await (await fetch(`${platformUrl}/api/config`)).json());
    const signUp = await fetch(`${devUrl}/auth/v1/signup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: "dev@example.com", password: "a long enough password" }),
    });
    expect(signUp.status).toBe(200);
    const session = (await signUp.json()) as { access_token: string };
    const me = await fetch(`${devUrl}/api/me`, { headers: { authorization: `Bearer ${session.access_token}` } });
    expect(me.status).toBe(200);
    // The app's own pages (the mailed /auth/confirm link too) come from Vite, with its live module.
    for (const page of ["/", "/auth/confirm?token_hash=abc&type=signup"]) {
      const html = await (await fetch(`${devUrl}${page}`)).text();
      expect(html).toContain("/src/main.tsx");
    }
    expect(vite.output()).not.toMatch(/proxy error/i);
  });

  it("npm run dev in platform/ runs the API from source in watch mode against the running gateway", async () => {
    const port = await freePort();
    await start("npm", ["run", "dev"], {
      cwd: path.join(repoRoot, "platform"),
      env: { ...env, PORT: String(port), PGLITE_DATA_DIR: path.join(scratch, "dev-db") },
      ready: /listening on http:\/\/127\.0\.0\.1:\d+/,
      timeoutMs: 120_000,
    });
    const health = await fetch(`http://127.0.0.1:${port}/api/health`);
    expect(await health.json()).toMatchObject({ status: "ok" });
  });
});
