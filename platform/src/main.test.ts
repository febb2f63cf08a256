import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { dataDirMarkerPath } from "@workforce/protocol/tenant-path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "./test-support/fake-gateway";

const mainPath = fileURLToPath(new URL("./main.ts", import.meta.url));
let tmp: string;
let gateway: FakeGateway;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "workforce-main-"));
  gateway = await startFakeGateway({ hookToken: "hook", dataDir: { path: path.join(tmp, "tenants"), instanceId: "instance-1" } });
});
afterAll(async () => {
  await gateway.close();
  await rm(tmp, { recursive: true, force: true });
});

function startPlatform(env: Record<string, string>): { child: ChildProcess; output: () => string; url: Promise<string>; exited: Promise<number | null> } {
  let output = "";
  const child = spawn(process.execPath, ["--import", "tsx", mainPath], {
    env: { PATH: process.env.PATH ?? "", HOME: tmp, PORT: "0", HOST: "127.0.0.1", GATEWAY_WAIT_MS: "3000", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+) /.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.on("exit", (code) => reject(new Error(`platform exited with ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  url.catch(() => undefined);
  return { child, output: () => output, url, exited };
}

describe("platform process", () => {
  it("refuses to start when the gateway uses another TENANT_DATA_DIR, naming both paths", async () => {
    const ours = path.join(tmp, "other-tenants");
    const platform = startPlatform({
      CLAWDBOT_GATEWAY_URL: gateway.url,
      CLAWDBOT_HOOK_TOKEN: "hook",
      TENANT_DATA_DIR: ours,
      PGLITE_DATA_DIR: path.join(tmp, "db-mismatch"),
    });
    expect(await platform.exited).toBe(1);
    expect(platform.output()).toContain(path.join(tmp, "tenants"));
    expect(platform.output()).toContain(ours);
    expect(platform.output()).toContain("Fix:");
  });

  it("refuses to start when its CLAWDBOT_HOOK_TOKEN is not the gateway's, saying so", async () => {
    const platform = startPlatform({
      CLAWDBOT_GATEWAY_URL: gateway.url,
      CLAWDBOT_HOOK_TOKEN: "not-the-gateway-token",
      TENANT_DATA_DIR: path.join(tmp, "tenants"),
      PGLITE_DATA_DIR: path.join(tmp, "db-wrong-token"),
    });
    expect(await platform.exited).toBe(1);
    expect(platform.output()).toMatch(/rejected the platform's credentials; CLAWDBOT_HOOK_TOKEN must be the same for both services/);
    expect(platform.output()).not.toContain("not-the-gateway-token");
  });

  it("rejects a relative TENANT_DATA_DIR before doing anything", async () => {
    const platform = startPlatform({ TENANT_DATA_DIR: "./tenants", CLAWDBOT_GATEWAY_URL: gateway.url });
    expect(await platform.exited).toBe(1);
    expect(platform.output()).toMatch(/TENANT_DATA_DIR: must be an absolute path/);
  });

  it("starts on a real socket, reports healthy, signs up and streams a reply", async () => {
    const tenants = path.join(tmp, "tenants");
    await import("node:fs/promises").then((fs) => fs.mkdir(tenants, { recursive: true }));
    await writeFile(dataDirMarkerPath(tenants), JSON.stringify({ instanceId: "instance-1" }));
    const platform = startPlatform({
      CLAWDBOT_GATEWAY_URL: gateway.url,
      CLAWDBOT_HOOK_TOKEN: "hook",
      TENANT_DATA_DIR: tenants,
      PGLITE_DATA_DIR: path.join(tmp, "db"),
    });
    try {
      const url = await platform.url;
      const health = await fetch(`${url}/api/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({
        status: "ok",
        database: { ok: true },
        gateway: { ok: true, url: gateway.url },
        dataDir: { ok: true, path: tenants, instanceId: "instance-1" },
      });
      const session = (await (
        await fetch(`${url}/auth/v1/signup`, { method: "POST", body: JSON.stringify({ email: "ada@example.com", password: "correct horse battery" }) })
      ).json()) as { access_token: string };
      const headers = { authorization: `Bearer ${session.access_token}`, "content-type": "application/json" };
      expect((await fetch(`${url}/api/agents`, { method: "POST", headers, body: JSON.stringify({ name: "Ada", role: "Analyst" }) })).status).toBe(201);
      const stream = await fetch(`${url}/api/agents/ada/messages`, { method: "POST", headers, body: JSON.stringify({ message: "Who are you?" }) });
      expect(stream.headers.get("content-type")).toMatch(/text\/event-stream/);
      const text = await stream.text();
      expect(text).toContain("event: run-end");
    } finally {
      platform.child.kill("SIGTERM");
      const code = await platform.exited;
      if (code !== 0) console.log(platform.output());
      expect(code).toBe(0);
    }
  });
});
