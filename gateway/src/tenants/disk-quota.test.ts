import { lstat, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { TenantDiskUsage, type RunEvent, type TenantPolicy } from "@workforce/protocol";
import { afterEach, describe, expect, it } from "vitest";
import { createScriptedProvider, type ScriptedCall } from "../test-support/scripted-provider";
import { readRunEvents, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

/**
 * Disk quotas end to end on a real data dir: a tenant's model writes through the workspace tools
 * until refused, its next run and its API writes get 507 tenant_quota_exceeded, the other tenant
 * keeps working, and the figure the gateway keeps matches the bytes on disk (also after a restart
 * and an erasure).
 */
const usage = { inputTokens: 1, outputTokens: 1 };
const script: ScriptedCall[] = [];
const provider = createScriptedProvider(script);
const opened: TestGateway[] = [];

async function start(dataDir?: string): Promise<TestGateway> {
  // nearQuotaRefreshMs 0: near the quota every decision walks again, as after the real 10 s. No
  // idle registry rewrite in the middle of comparing the figure with the files (it is counted, but not atomically with our walk).
  const h = await startTestGateway({ providers: { anthropic: provider }, disk: { nearQuotaRefreshMs: 0 }, registry: { compactDelayMs: 600_000 }, ...(dataDir ? { dataDir } : {}) });
  opened.push(h);
  return h;
}

afterEach(async () => {
  script.length = 0;
  for (const h of opened.splice(0).reverse()) await h.cleanup();
});

/** What `du --apparent-size` would say, minus the lock files the gateway holds only while writing. */
async function bytesOnDisk(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await bytesOnDisk(full);
    else if (entry.isFile() && !entry.name.endsWith(".lock")) total += (await lstat(full)).size;
  }
  return total;
}

async function disk(h: TestGateway, tenant: string): Promise<TenantDiskUsage> {
  // Runs that ended have their usage line on its way to usage.jsonl, which counts too.
  await h.gateway.metering.flush();
  const response = await h.request("GET", "/v1/tenant/disk", { tenant });
  expect(response.status).toBe(200);
  return TenantDiskUsage.parse(await response.json());
}

async function setQuota(h: TestGateway, tenant: string, diskBytes: number): Promise<void> {
  const policy: TenantPolicy = { version: 1, suspended: false, suspendedReason: null, limits: { maxConcurrentRuns: 4, maxQueuedRuns: 200, monthlyTokens: null, diskBytes } };
  expect((await h.request("PUT", "/v1/tenant/policy", { tenant, body: policy })).status).toBe(200);
}

/** One run whose model writes `files` (name → bytes) one per step, then answers "done". */
async function runWriting(h: TestGateway, tenant: string, files: Record<string, number>): Promise<RunEvent[]> {
  for (const [name, bytes] of Object.entries(files)) {
    script.push({ parts: [{ type: "tool-call", toolCallId: name, name: "write_file", input: { path: name, content: "x".repeat(bytes) } }, { type: "finish", stopReason: "tool_use", usage }] });
  }
  script.push({ parts: [{ type: "text-delta", text: "done" }, { type: "finish", stopReason: "end_turn", usage }] });
  const response = await h.request("POST", "/v1/agents/ada/runs", { tenant, body: { message: "write" }, headers: { accept: "text/event-stream" } });
  expect(response.status).toBe(200);
  return readRunEvents(response);
}

const toolEnds = (events: readonly RunEvent[]) => events.flatMap((event) => (event.type === "tool-call-end" ? [event] : []));

describe("disk quotas per tenant", () => {
  it("refuses the writes and runs of a tenant over its quota with tenant_quota_exceeded, leaving nothing half-written, while another tenant keeps working", async () => {
    const h = await start();
    for (const tenant of [TENANT_A, TENANT_B]) expect((await h.createAgent(tenant, { model: "claude-test" })).status).toBe(201);
    const start0 = await disk(h, TENANT_A);
    expect(start0.usedBytes).toBe(await bytesOnDisk(path.join(h.dataDir, TENANT_A)));
    await setQuota(h, TENANT_A, start0.usedBytes + 150_000);

    // Each 16 KB file costs about 32 KB (the file, and the call recorded in the transcript): within eight steps one is refused.
    const files = Object.fromEntries(Array.from({ length: 7 }, (_, index) => [`notes/part-${index}.md`, 16_000]));
    const events = await runWriting(h, TENANT_A, files);
    expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    const ends = toolEnds(events);
    const refused = ends.filter((end) => end.isError);
    expect(refused.length).toBeGreaterThan(0);
    expect(ends[0]?.isError).toBe(false);
    for (const end of refused) expect(end.output).toMatch(/^tenant_quota_exceeded: .*disk quota/);
    // The refused files were never started: no file, no temp file beside it.
    const workspaceNotes = path.join(h.dataDir, TENANT_A, "workspace", "ada", "notes");
    const written = (await readdir(workspaceNotes)).sort();
    expect(written).toEqual(ends.filter((end) => !end.isError).map((end) => end.toolCallId.slice("notes/".length)).sort());
    expect(written.every((name) => !name.endsWith(".tmp"))).toBe(true);

    // The figure kept from deltas is the bytes on disk.
    const afterRun = await disk(h, TENANT_A);
    expect(afterRun).toEqual({ usedBytes: await bytesOnDisk(path.join(h.dataDir, TENANT_A)), quotaBytes: start0.usedBytes + 150_000 });

    // A file another gateway on the shared data dir wrote: near the quota this gateway walks again and sees it.
    await writeFile(path.join(h.dataDir, TENANT_A, "workspace", "ada", "from-elsewhere.md"), "y".repeat(20_000));
    const refusedRun = await h.request("POST", "/v1/agents/ada/runs", { tenant: TENANT_A, body: { message: "one more" } });
    expect(refusedRun.status).toBe(507);
    const body = (await refusedRun.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("tenant_quota_exceeded");
    const over = await disk(h, TENANT_A);
    expect(body.error.message).toContain(`${over.usedBytes} bytes`);
    expect(body.error.message).toContain(`${over.quotaBytes} bytes`);

    // API writes too: a new agent, a changed agent.
    const agentRefused = await h.createAgent(TENANT_A, { name: "Bob" });
    expect(agentRefused.status).toBe(507);
    expect(((await agentRefused.json()) as { error: { code: string } }).error.code).toBe("tenant_quota_exceeded");
    expect(((await h.request("GET", "/v1/agents", { tenant: TENANT_A }).then((response) => response.json())) as { agents: unknown[] }).agents).toHaveLength(1);
    expect((await h.request("PATCH", "/v1/agents/ada", { tenant: TENANT_A, body: { persona: "z".repeat(2_000) } })).status).toBe(507);

    // The other tenant is untouched: it runs, and its model writes.
    const other = await runWriting(h, TENANT_B, { "b.md": 16_000 });
    expect(other.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
    expect(toolEnds(other)).toMatchObject([{ isError: false, output: "wrote 16000 bytes to b.md" }]);
    expect((await disk(h, TENANT_B)).usedBytes).toBe(await bytesOnDisk(path.join(h.dataDir, TENANT_B)));

    // Deleting a session frees room; the figure follows.
    const { sessions } = (await h.request("GET", "/v1/agents/ada/sessions", { tenant: TENANT_A }).then((response) => response.json())) as { sessions: { key: string }[] };
    expect(sessions).toHaveLength(1);
    for (const session of sessions) expect((await h.request("DELETE", `/v1/agents/ada/sessions/${session.key}`, { tenant: TENANT_A })).status).toBe(204);
    expect((await disk(h, TENANT_A)).usedBytes).toBe(await bytesOnDisk(path.join(h.dataDir, TENANT_A)));
    // So does deleting the agent with its workspace, and then the tenant may create one again.
    expect((await h.request("DELETE", "/v1/agents/ada", { tenant: TENANT_A })).status).toBe(204);
    const emptied = await disk(h, TENANT_A);
    expect(emptied.usedBytes).toBe(await bytesOnDisk(path.join(h.dataDir, TENANT_A)));
    expect(emptied.usedBytes).toBeLessThan(start0.usedBytes);
    expect((await h.createAgent(TENANT_A, { name: "Bob" })).status).toBe(201);
  });

  it("the figure survives a restart (one walk) and an erasure resets it", async () => {
    const first = await start();
    expect((await first.createAgent(TENANT_A, { model: "claude-test" })).status).toBe(201);
    await runWriting(first, TENANT_A, { "a.md": 10_000, "b.md": 5_000 });
    const before = await disk(first, TENANT_A);
    expect(before.usedBytes).toBeGreaterThan(15_000);
    const dataDir = first.dataDir;
    // The restart: the first gateway stops (its cleanup, which also removes the data dir, runs after the second's).
    const closeFirst = first.gateway.close.bind(first.gateway);
    await closeFirst();
    first.gateway.close = () => Promise.resolve();

    const second = await start(dataDir);
    // close() wrote the registries out (sessions.json replaces its journal): the walk sees the same bytes as the files.
    expect(await disk(second, TENANT_A)).toEqual({ usedBytes: await bytesOnDisk(path.join(dataDir, TENANT_A)), quotaBytes: before.quotaBytes });
    expect((await second.request("DELETE", "/v1/tenant", { tenant: TENANT_A })).status).toBe(204);
    expect((await disk(second, TENANT_A)).usedBytes).toBe(0);
    expect((await second.createAgent(TENANT_A)).status).toBe(201);
    expect((await disk(second, TENANT_A)).usedBytes).toBe(await bytesOnDisk(path.join(dataDir, TENANT_A)));
  });
});
