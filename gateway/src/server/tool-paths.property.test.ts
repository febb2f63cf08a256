import { mkdir, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { RunEvent } from "@workforce/protocol";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { changedPaths, changesOutside, fuzzParameters, hostileString, snapshotTree } from "../test-support/fuzz";
import { createScriptedProvider, type ScriptedCall } from "../test-support/scripted-provider";
import { readRunEvents, startTestGateway, TENANT_A, type TestGateway } from "../test-support/test-gateway";

/**
 * Drives the workspace tools through a scripted model that asks for fuzzed paths, with symlinks
 * planted in the workspace that point at another tenant, the data dir root and a directory
 * outside it. Properties: every run ends ok, nothing outside TENANT_DATA_DIR/{A}/ changes, and
 * neither the canary tenant's secret nor the outside secret reaches the model or the client.
 */
const CANARY = "d5b8f2a1-6c3e-4f9b-8a0d-1e2f3a4b5c6d";
const SECRET = "CANARY-TOOLS-91b2-violet-heron";
const OUTSIDE_SECRET = "OUTSIDE-5d0c-granite-owl";
const usage = { inputTokens: 1, outputTokens: 1 };
const script: ScriptedCall[] = [];
const provider = createScriptedProvider(script);
let base: string;
let dataDir: string;
let outside: string;
let h: TestGateway;

/** Workspace entries that lead out of it, and where they point. */
const ESCAPES = ["to-canary", "to-canary-file.md", "to-root", "to-outside", "rel-up", "notes/up-again", "dangling.md", "notes/dangling-dir"];

beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), "tool-paths-"));
  dataDir = path.join(base, "data");
  outside = path.join(base, "outside");
  await mkdir(dataDir);
  await mkdir(outside);
  await writeFile(path.join(outside, "secret.txt"), OUTSIDE_SECRET);
  // Background registry compaction would rewrite the canary's sessions.json mid-batch.
  h = await startTestGateway({ dataDir, providers: { anthropic: provider }, registry: { compactDelayMs: 600_000 } });
  expect((await h.createAgent(TENANT_A, { model: "claude-test" })).status).toBe(201);
  expect((await h.createAgent(CANARY)).status).toBe(201);
  const canaryRun = await h.request("POST", "/v1/agents/ada/runs", { tenant: CANARY, body: { message: `Remember ${SECRET}` }, headers: { accept: "text/event-stream" } });
  expect((await readRunEvents(canaryRun)).at(-1)).toMatchObject({ type: "run-end", status: "ok" });
  const canaryWorkspace = path.join(dataDir, CANARY, "workspace", "ada");
  await writeFile(path.join(canaryWorkspace, "secret.md"), SECRET);
  const workspace = path.join(dataDir, TENANT_A, "workspace", "ada");
  await mkdir(path.join(workspace, "notes"), { recursive: true });
  await writeFile(path.join(workspace, "notes", "plan.md"), "step one\n");
  await symlink(canaryWorkspace, path.join(workspace, "to-canary"));
  await symlink(path.join(canaryWorkspace, "secret.md"), path.join(workspace, "to-canary-file.md"));
  await symlink(dataDir, path.join(workspace, "to-root"));
  await symlink(outside, path.join(workspace, "to-outside"));
  await symlink(`../../../${CANARY}/workspace/ada`, path.join(workspace, "rel-up"));
  await symlink("../../../..", path.join(workspace, "notes", "up-again"));
  await symlink(path.join(outside, "created-through-link.md"), path.join(workspace, "dangling.md"));
  await symlink(path.join(outside, "new-dir"), path.join(workspace, "notes", "dangling-dir"));
});
afterAll(async () => {
  await h.cleanup();
  await rm(base, { recursive: true, force: true });
});

const toolPath = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...ESCAPES), fc.constantFrom("", "/", "/secret.md", "/secret.txt", `/${CANARY}/workspace/ada/secret.md`, "/x.md", "/../x", "/.")).map(([link, rest]) => link + rest) },
  { weight: 2, arbitrary: fc.constantFrom("notes/plan.md", "notes", ".", "MEMORY.md", "IDENTITY.md", `../../${CANARY}/workspace/ada/secret.md`, `/${CANARY}`, "%2e%2e/%2e%2e/secret.md", "..%2f..%2f", "\uff0e\uff0e/\uff0e\uff0e/secret.md", "notes\u0000.md", " notes/plan.md ") },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z]{1,8}(\/[a-z]{1,8}){0,2}\.md$/) },
  { weight: 3, arbitrary: hostileString() },
);
const toolCall = fc.oneof(
  fc.record({ name: fc.constant("read_file"), input: fc.record({ path: toolPath }) }),
  fc.record({ name: fc.constant("write_file"), input: fc.record({ path: toolPath, content: fc.oneof({ weight: 9, arbitrary: fc.string({ maxLength: 100 }) }, { weight: 1, arbitrary: fc.constant("y".repeat(300 * 1024)) }) }) }),
  fc.record({ name: fc.constant("list_files"), input: fc.record({ path: toolPath }, { requiredKeys: [] }) }),
  fc.record({ name: fc.constant("search_files"), input: fc.record({ query: fc.constantFrom("violet-heron", "granite-owl", "CANARY", "step", "a"), path: toolPath }, { requiredKeys: ["query"] }) }),
  fc.record({ name: fc.constant("append_memory"), input: fc.record({ note: fc.string({ maxLength: 50 }) }) }),
  fc.record({ name: fc.constantFrom("read_file", "write_file", "delete_file", "../read_file"), input: fc.jsonValue({ maxDepth: 2 }) }),
);

describe("workspace tools driven by a model with hostile paths", () => {
  it("keep every read and write inside the agent's workspace", async () => {
    let turn = 0;
    const outcomes = { ok: 0, error: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(toolCall, { minLength: 1, maxLength: 5 }), async (calls) => {
        turn += 1;
        const beforeData = await snapshotTree(dataDir);
        const beforeOutside = await snapshotTree(outside);
        script.push(
          {
            parts: [
              ...calls.map((call, index) => ({ type: "tool-call" as const, toolCallId: `t${turn}-${index}`, name: call.name, input: call.input })),
              { type: "finish", stopReason: "tool_use", usage },
            ],
          },
          { parts: [{ type: "text-delta", text: "done" }, { type: "finish", stopReason: "end_turn", usage }] },
        );
        const requestsBefore = provider.requests.length;
        const response = await h.request("POST", "/v1/agents/ada/runs", { body: { message: "go", sessionKey: `fuzz-${turn % 5}` }, headers: { accept: "text/event-stream" } });
        const events: RunEvent[] = await readRunEvents(response.clone());
        const text = await response.text();
        expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
        const modelSaw = JSON.stringify(provider.requests.slice(requestsBefore).map((request) => request.messages));
        for (const secret of [SECRET, OUTSIDE_SECRET]) {
          expect(text.includes(secret), "secret in the client's stream").toBe(false);
          expect(modelSaw.includes(secret), "secret in what the model saw").toBe(false);
        }
        // A call through a planted link must fail, whatever follows the link name.
        const starts = new Map(events.flatMap((event) => (event.type === "tool-call-start" ? [[event.toolCallId, event.input] as const] : [])));
        for (const event of events) {
          if (event.type !== "tool-call-end") continue;
          outcomes[event.isError ? "error" : "ok"] += 1;
          const input = starts.get(event.toolCallId) as { path?: unknown } | undefined;
          const named = typeof input?.path === "string" ? input.path.trim() : "";
          const throughLink = ESCAPES.filter((link) => !link.startsWith("dangling") && !link.includes("dangling-dir")).some((link) => named === link || named.startsWith(`${link}/`));
          if (throughLink) expect({ named, isError: event.isError, output: event.output.slice(0, 80) }).toMatchObject({ isError: true });
        }
        expect(changedPaths(beforeOutside, await snapshotTree(outside))).toEqual([]);
        expect(changesOutside(changedPaths(beforeData, await snapshotTree(dataDir)), [TENANT_A])).toEqual([]);
      }),
      fuzzParameters(30),
    );
    expect(script).toEqual([]);
    // The batch exercised both sides: tools that worked and tools that were refused.
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(outcomes.error).toBeGreaterThan(0);
  });

  // Found by this suite: a dangling symlink used to pass as "a file not created yet" and an
  // append then created its target outside the root. ensureContained now follows the link.
  it("a MEMORY.md that is a dangling symlink pointing outside stops the run and creates nothing outside", async () => {
    expect((await h.createAgent(TENANT_A, { name: "Memo", model: "claude-test" })).status).toBe(201);
    const memory = path.join(dataDir, TENANT_A, "workspace", "memo", "MEMORY.md");
    const target = path.join(outside, "memory-escape.md");
    await rm(memory);
    await symlink(target, memory);
    script.push(
      { parts: [{ type: "tool-call", toolCallId: "m1", name: "append_memory", input: { note: "written through the link" } }, { type: "finish", stopReason: "tool_use", usage }] },
      { parts: [{ type: "text-delta", text: "done" }, { type: "finish", stopReason: "end_turn", usage }] },
    );
    const events = await readRunEvents(await h.request("POST", "/v1/agents/memo/runs", { body: { message: "remember this" }, headers: { accept: "text/event-stream" } }));
    const created = await stat(target).then(() => true, () => false);
    await rm(target, { force: true });
    expect(created).toBe(false);
    // MEMORY.md is read into the system prompt before the model is called: the run ends there.
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "error", error: { code: "path_escape" } });
    expect(events.some((event) => event.type === "tool-call-end")).toBe(false);
  });
});
