import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DATA_DIR_MARKER } from "@workforce/protocol/tenant-path";
import { GatewayHealth, SessionHistory } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { readRunEvents, replyText, TENANT_A } from "./test-support/test-gateway";

const BIN = fileURLToPath(new URL("../bin/gateway.js", import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

function startCli(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", HOME: os.tmpdir(), ...env } });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout.on("data", check);
    void exited.then((code) => reject(new Error(`gateway exited with ${code}: ${stderr}`)));
  });
  listening.catch(() => undefined); // tests that expect a failed start never await it
  return { child, listening, exited, output: () => ({ stdout, stderr }) };
}

/** Every line the gateway wrote to stdout, each of which must be a JSON log record. */
function logLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("gateway CLI over a real socket", () => {
  it("starts, serves health and a streamed run, logs no secrets, and stops on SIGTERM", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-cli-"));
    dirs.push(dataDir);
    const token = "cli-test-token-123";
    const cli = startCli(["run", "--port", "0", "--bind", "127.0.0.1"], {
      TENANT_DATA_DIR: dataDir,
      CLAWDBOT_HOOK_TOKEN: token,
      OFFLINE_MODEL_DELAY_MS: "0",
    });
    const url = await cli.listening;
    const health = GatewayHealth.parse(await (await fetch(`${url}/`)).json());
    const marker = JSON.parse(await readFile(path.join(dataDir, DATA_DIR_MARKER), "utf8")) as { instanceId: string };
    expect(health.dataDir).toEqual({ path: dataDir, instanceId: marker.instanceId });

    const headers = { authorization: `Bearer ${token}`, "x-tenant-id": TENANT_A, "content-type": "application/json" };
    const created = await fetch(`${url}/v1/agents`, { method: "POST", headers, body: JSON.stringify({ name: "Ada", role: "Research Analyst" }) });
    expect(created.status).toBe(201);
    const run = await fetch(`${url}/v1/agents/ada/runs`, {
      method: "POST",
      headers: { ...headers, accept: "text/event-stream", "x-request-id": "cli-test-request-1" },
      body: JSON.stringify({ message: "Who are you?" }),
    });
    expect(run.headers.get("x-request-id")).toBe("cli-test-request-1");
    const events = await readRunEvents(run);
    expect(replyText(events)).toContain("I'm Ada, Research Analyst.");
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect((await fetch(`${url}/v1/agents`, { headers: { "x-tenant-id": TENANT_A } })).status).toBe(401);

    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    const { stdout, stderr } = cli.output();
    expect(stdout).toContain(dataDir);
    expect(stdout + stderr).not.toContain(token);
    const lines = logLines(stdout);
    expect(lines.every((line) => line.service === "gateway" && typeof line.time === "string" && typeof line.msg === "string")).toBe(true);
    // One access-log line per request: the route template, the status, the request id and tenant.
    expect(lines).toContainEqual(
      expect.objectContaining({ msg: "request", method: "POST", route: "/v1/agents/:slug/runs", status: 200, requestId: "cli-test-request-1", tenantId: TENANT_A }),
    );
    expect(lines).toContainEqual(expect.objectContaining({ msg: "request", method: "GET", route: "/v1/agents", status: 401 }));
    expect(stderr).toBe("");
  });

  it("refuses a relative TENANT_DATA_DIR and a public bind without a token, naming the fix", async () => {
    const relative = startCli(["run", "--port", "0"], { TENANT_DATA_DIR: "./data/tenants" });
    expect(await relative.exited).toBe(1);
    const [refusal] = logLines(relative.output().stdout).filter((line) => line.level === "error");
    expect(refusal?.msg).toContain('TENANT_DATA_DIR must be an absolute path, got "./data/tenants"');

    const open = startCli(["run", "--port", "0", "--bind", "0.0.0.0"], { TENANT_DATA_DIR: path.join(os.tmpdir(), "never-created"), LOG_LEVEL: "error" });
    expect(await open.exited).toBe(1);
    expect(logLines(open.output().stdout)).toEqual([expect.objectContaining({ level: "error", msg: expect.stringContaining("CLAWDBOT_HOOK_TOKEN") })]);
  });

  it("survives SIGKILL mid-stream: files stay parseable, completed messages stay, the session continues after restart", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-crash-"));
    dirs.push(dataDir);
    const env = { TENANT_DATA_DIR: dataDir, OFFLINE_MODEL_DELAY_MS: "30" };
    const first = startCli(["run", "--port", "0"], env);
    const url = await first.listening;
    const headers = { "x-tenant-id": TENANT_A, "content-type": "application/json" };
    await fetch(`${url}/v1/agents`, { method: "POST", headers, body: JSON.stringify({ name: "Ada", role: "Research Analyst" }) });
    const sendMessage = (base: string, message: string) =>
      fetch(`${base}/v1/agents/ada/runs`, { method: "POST", headers: { ...headers, accept: "text/event-stream" }, body: JSON.stringify({ message, sessionKey: "s" }) });
    await readRunEvents(await sendMessage(url, "first"));

    const streaming = await sendMessage(url, "second");
    const reader = streaming.body!.getReader();
    let seen = "";
    while (!seen.includes("text-delta")) seen += new TextDecoder().decode((await reader.read()).value as Uint8Array | undefined);
    first.child.kill("SIGKILL");
    await first.exited;
    await reader.cancel().catch(() => undefined);

    const sessionsDir = path.join(dataDir, TENANT_A, "agents", "ada", "sessions");
    JSON.parse(await readFile(path.join(dataDir, TENANT_A, "config.json"), "utf8"));
    const registry = JSON.parse(await readFile(path.join(sessionsDir, "sessions.json"), "utf8")) as Record<string, { sessionId: string }>;
    const transcript = (await readFile(path.join(sessionsDir, `${registry.s!.sessionId}.jsonl`), "utf8")).trim().split("\n");
    for (const line of transcript) JSON.parse(line);
    expect(transcript.length).toBeGreaterThanOrEqual(3);

    const second = startCli(["run", "--port", "0"], env);
    const url2 = await second.listening;
    const events = await readRunEvents(await sendMessage(url2, "third"));
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const history = SessionHistory.parse(
      await (await fetch(`${url2}/v1/agents/ada/sessions/s`, { headers })).json(),
    );
    const users = history.entries.filter((entry) => entry.type === "user").map((entry) => entry.content[0]?.text);
    expect(users).toEqual(["first", "second", "third"]);
    // The reply the kill cut off is closed by an interrupted marker: the conversation alternates.
    expect(history.entries.map((entry) => entry.type)).toEqual(["user", "assistant", "user", "assistant", "user", "assistant"]);
    expect(history.entries[3]).toMatchObject({ stopReason: "interrupted", interrupted: { code: "run_interrupted" } });
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
