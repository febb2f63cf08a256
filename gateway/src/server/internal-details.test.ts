import { spawnSync } from "node:child_process";
import { closeSync, openSync, readdirSync } from "node:fs";
import { mkdtemp, readFile, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ApiErrorBody, RunEvent, SessionHistory } from "@workforce/protocol";
import { lockOwnersDirPath } from "@workforce/protocol/tenant-path";
import { afterEach, describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { errnoCode } from "../fs/errno";
import { createFileLocks } from "../fs/file-lock";
import { createConsoleLogger } from "../logger";
import { makeReadOnly } from "../test-support/read-only-dir";
import { createScriptedProvider, type ScriptedCall } from "../test-support/scripted-provider";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";
import { connectTestSocket } from "../test-support/ws-test-client";
import { startServer, type RunningServer } from "./start-server";

/**
 * Nothing internal reaches a client: file-system, lock and storage failures are answered with a
 * stable code and a human message, in HTTP bodies, SSE and WebSocket events, OpenAI-compatible
 * answers, hook answers and the tool results written into transcripts. Never the data dir's path,
 * never errno text, never who holds a lock; those go to the gateway log.
 */
const TOKEN = "internal-details-token";
const usage = { inputTokens: 1, outputTokens: 1 };
const ERRNO = /\b(ENOENT|EACCES|EROFS|EPERM|ENOTDIR|EISDIR|ENOSPC|EEXIST)\b/;
const cleanups: (() => Promise<void>)[] = [];
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(options: Parameters<typeof startTestGateway>[0] = {}): Promise<{ h: TestGateway; server: RunningServer; url: string }> {
  const h = await startTestGateway({ hookToken: TOKEN, ...options });
  cleanups.push(() => h.cleanup());
  const server = await startServer(h.gateway.app, 0, "127.0.0.1", (request, socket, head) => h.gateway.websocket.handleUpgrade(request, socket, head));
  cleanups.push(() => server.close());
  return { h, server, url: server.url };
}

/** The data dir in every spelling a message could use (tmpdir may itself be a symlink). */
async function expectNothingInternal(h: TestGateway, text: string, where: string): Promise<void> {
  for (const dir of new Set([h.dataDir, await realpath(h.dataDir)])) expect(text.includes(dir), `${where} names the data dir: ${text.slice(0, 300)}`).toBe(false);
  expect(text, where).not.toMatch(ERRNO);
  expect(text, where).not.toContain("other-machine");
}

function script(calls: { name: string; input: unknown }[]): ScriptedCall[] {
  return [
    { parts: [...calls.map((call, index) => ({ type: "tool-call" as const, toolCallId: `t${index}`, ...call })), { type: "finish", stopReason: "tool_use", usage }] },
    { parts: [{ type: "text-delta", text: "done" }, { type: "finish", stopReason: "end_turn", usage }] },
  ];
}

const sse = { accept: "text/event-stream" };

describe("what a client learns about internal failures", () => {
  it("tells the model and the transcript about missing files in workspace terms only", async () => {
    const calls: ScriptedCall[] = [];
    const provider = createScriptedProvider(calls);
    const { h, url } = await start({ providers: { anthropic: provider } });
    expect((await h.createAgent(TENANT_A, { model: "claude-test" })).status).toBe(201);
    calls.push(
      ...script([
        { name: "read_file", input: { path: "notes/missing.md" } },
        { name: "list_files", input: { path: "nowhere" } },
        { name: "search_files", input: { query: "x", path: "nowhere/deeper" } },
        { name: "write_file", input: { path: "notes/plan.md", content: "plan" } },
        { name: "read_file", input: { path: "notes" } },
        { name: "read_file", input: { path: "notes/plan.md/inside.md" } },
        { name: "write_file", input: { path: "notes/plan.md/inside.md", content: "x" } },
      ]),
    );
    const response = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "look around", sessionKey: "missing" }, headers: sse });
    const text = await response.clone().text();
    const events = await readRunEvents(response);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const results = events.flatMap((event) => (event.type === "tool-call-end" ? [[event.isError, event.output] as const] : []));
    expect(results).toEqual([
      [true, "not_found: No file or folder named notes/missing.md in the workspace"],
      [true, "not_found: No file or folder named nowhere in the workspace"],
      [true, "not_found: No file or folder named nowhere/deeper in the workspace"],
      [false, "wrote 4 bytes to notes/plan.md"],
      [true, "invalid_path: notes is a folder, not a file"],
      [true, "invalid_path: notes/plan.md/inside.md: part of this path is a file, not a folder"],
      [true, "invalid_path: notes/plan.md/inside.md: part of this path is a file, not a folder"],
    ]);
    await expectNothingInternal(h, text, "SSE stream");
    await expectNothingInternal(h, JSON.stringify(provider.requests.map((request) => request.messages)), "what the model saw");

    // Over the WebSocket too, and the transcript on disk and in the history answer.
    calls.push(...script([{ name: "read_file", input: { path: "gone.md" } }]));
    const client = connectTestSocket(`${url.replace("http", "ws")}/v1/ws`, { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_A }, sockets);
    await client.opened;
    client.request("1", "chat.send", { agent: "ada", message: "again", sessionKey: "missing" });
    const frames = await client.until((all) => all.some((frame) => frame.event === "run-end"));
    const ends = frames.flatMap((frame) => (frame.type === "event" ? [RunEvent.parse(frame.payload)] : [])).filter((event) => event.type === "tool-call-end");
    expect(ends).toMatchObject([{ isError: true, output: "not_found: No file or folder named gone.md in the workspace" }]);
    await expectNothingInternal(h, JSON.stringify(frames), "WebSocket frames");

    const history = await h.request("GET", "/v1/agents/ada/sessions/missing");
    const session = SessionHistory.parse(await history.clone().json());
    await expectNothingInternal(h, await history.text(), "session history");
    const transcript = await readFile(path.join(h.dataDir, TENANT_A, "agents", "ada", "sessions", `${session.session.sessionId}.jsonl`), "utf8");
    expect(transcript).toContain("No file or folder named gone.md in the workspace");
    await expectNothingInternal(h, transcript, "transcript lines");
  });

  it("tells the model its workspace is read-only, and HTTP clients the storage code, never the path or errno", async () => {
    const calls: ScriptedCall[] = [];
    const { h } = await start({ providers: { anthropic: createScriptedProvider(calls) } });
    expect((await h.createAgent(TENANT_A, { model: "claude-test" })).status).toBe(201);
    const expected = await makeReadOnly(path.join(h.dataDir, TENANT_A, "workspace", "ada"));
    cleanups.push(expected.restore);
    calls.push(
      ...script([
        { name: "write_file", input: { path: "notes/new.md", content: "x" } },
        { name: "write_file", input: { path: "USER.md", content: "x" } },
        { name: "append_memory", input: { note: "remember" } },
        { name: "read_file", input: { path: "IDENTITY.md" } },
      ]),
    );
    const response = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "write", sessionKey: "ro" }, headers: sse });
    const text = await response.clone().text();
    const events = await readRunEvents(response);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const results = events.flatMap((event) => (event.type === "tool-call-end" ? [event] : []));
    expect(results.map((event) => [event.isError, event.output.split(":")[0]])).toEqual([
      [true, expected.code],
      [true, expected.code],
      [true, expected.code],
      [false, "# IDENTITY.md - Who am I?\n\n- **Name"],
    ]);
    expect(results[0]?.output).toBe(`${expected.code}: ${expected.told}`);
    await expectNothingInternal(h, text, "SSE stream");

    // Saving the agent rewrites its identity files in the workspace.
    const patched = await h.request("PATCH", "/v1/agents/ada", { body: { role: "Editor" } });
    const body = await patched.text();
    expect(patched.status).toBe(503);
    expect(ApiErrorBody.parse(JSON.parse(body)).error.code).toBe(expected.code);
    await expectNothingInternal(h, body, "HTTP error body");
    const history = await h.request("GET", "/v1/agents/ada/sessions/ro");
    await expectNothingInternal(h, await history.text(), "session history");
  });

  it("answers a gateway at its open-file limit with a retryable storage_unavailable, and serves again once files are free", async () => {
    const h = await startTestGateway({ hookToken: TOKEN });
    cleanups.push(() => h.cleanup());
    expect((await h.createAgent(TENANT_A)).status).toBe(201);
    // This process's soft limit lowered to just above what it has open (prlimit: the real setrlimit), then filled.
    const limits = /(\d+)\s+(\d+)/.exec(spawnSync("prlimit", ["--pid", String(process.pid), "--nofile", "--noheadings", "--raw", "--output", "SOFT,HARD"], { encoding: "utf8" }).stdout);
    expect(limits, "prlimit (util-linux) reads this process's open-file limit").not.toBeNull();
    const [soft, hard] = [limits![1]!, limits![2]!];
    const setSoft = (value: string) => expect(spawnSync("prlimit", ["--pid", String(process.pid), `--nofile=${value}:${hard}`]).status).toBe(0);
    setSoft(String(readdirSync("/proc/self/fd").length + 32));
    const held: number[] = [];
    let error: unknown;
    try {
      for (;;) {
        try {
          held.push(openSync("/dev/null", "r"));
        } catch (caught) {
          if (errnoCode(caught) !== "EMFILE") throw caught;
          break;
        }
      }
      const response = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "hello", sessionKey: "s" }, headers: sse });
      // Refused at once, or the run ends with it: either way the same code, retryable, nothing internal.
      if (response.status === 200) {
        const end = (await readRunEvents(response)).at(-1);
        expect(end).toMatchObject({ type: "run-end", status: "error" });
        error = end?.type === "run-end" ? end.error : undefined;
      } else {
        expect(response.status).toBe(503);
        error = ApiErrorBody.parse(await response.json()).error;
      }
    } finally {
      for (const fd of held) closeSync(fd);
      setSoft(soft);
    }
    expect(error).toMatchObject({ code: "storage_unavailable", retryable: true });
    await expectNothingInternal(h, JSON.stringify(error), "the answer at the limit");
    expect(JSON.stringify(error)).not.toMatch(/EMFILE/);
    // Files free again: the same message goes through, and the session reads whole.
    const again = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "hello again", sessionKey: "s" }, headers: sse });
    expect((await readRunEvents(again)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const history = SessionHistory.parse(await (await h.request("GET", "/v1/agents/ada/sessions/s")).json());
    expect(history.entries.at(-1)).toMatchObject({ type: "assistant" });
  });

  it("answers a lock held too long by another gateway with storage_unavailable on every interface, naming neither the lock nor its holder", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "gateway-internal-details-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const locks = createFileLocks({ logger: createConsoleLogger("[test-locks]"), ownerDir: lockOwnersDirPath(dataDir), timeoutMs: 200 });
    const { h, url } = await start({ dataDir, locks });
    expect((await h.createAgent(TENANT_A)).status).toBe(201);
    // Another gateway (on another machine) holds the session registry's and the tenant config's locks.
    const holder = JSON.stringify({ host: "other-machine", pid: 4242, token: "remote" });
    await writeFile(path.join(dataDir, TENANT_A, "agents", "ada", "sessions", ".lock"), holder);
    await writeFile(path.join(dataDir, TENANT_A, "config.json.lock"), holder);

    const json = { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_A };
    const answers: [string, Response][] = [
      ["run (SSE)", await fetch(`${url}/v1/agents/ada/runs`, { method: "POST", headers: { ...json, ...sse }, body: JSON.stringify({ message: "hi", sessionKey: "one" }) })],
      ["run (JSON)", await fetch(`${url}/v1/agents/ada/runs`, { method: "POST", headers: json, body: JSON.stringify({ message: "hi", sessionKey: "two" }) })],
      ["chat completion", await fetch(`${url}/v1/chat/completions`, { method: "POST", headers: json, body: JSON.stringify({ model: "agent:ada", messages: [{ role: "user", content: "hi" }] }) })],
      ["hook", await fetch(`${url}/hooks/agent`, { method: "POST", headers: json, body: JSON.stringify({ agent: "ada", message: "hi" }) })],
      ["agent create", await fetch(`${url}/v1/agents`, { method: "POST", headers: json, body: JSON.stringify({ name: "Bea", role: "Analyst" }) })],
    ];
    for (const [where, response] of answers) {
      const body = await response.text();
      expect({ where, status: response.status, code: ApiErrorBody.parse(JSON.parse(body)).error.code }).toEqual({ where, status: 503, code: "storage_unavailable" });
      await expectNothingInternal(h, body, where);
      expect(body, where).not.toContain("4242");
    }

    const client = connectTestSocket(`${url.replace("http", "ws")}/v1/ws`, { authorization: `Bearer ${TOKEN}`, "x-tenant-id": TENANT_A }, sockets);
    await client.opened;
    client.request("1", "chat.send", { agent: "ada", message: "hi", sessionKey: "three" });
    const [frame] = await client.until((all) => all.some((candidate) => candidate.id === "1"));
    expect(frame).toMatchObject({ ok: false, error: { code: "storage_unavailable" } });
    await expectNothingInternal(h, JSON.stringify(frame), "WebSocket response");
  });
});
