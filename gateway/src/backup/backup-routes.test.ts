import { appendFile, readdir, readFile, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { BackupStreamLine, type BackupFileLine } from "@workforce/protocol/backup";
import { SessionHistory, SessionSummary } from "@workforce/protocol";
import { tenantPaths } from "@workforce/protocol/tenant-path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { readRunEvents, startTestGateway, TENANT_A, TENANT_B, type TestGateway } from "../test-support/test-gateway";

const TOKEN = "backup-test-token";
let source: TestGateway;
let target: TestGateway;

const chat = async (gateway: TestGateway, message: string, sessionKey: string) => {
  const response = await gateway.request("POST", "/v1/agents/ada/runs", { body: { message, sessionKey }, headers: { accept: "text/event-stream" } });
  const events = await readRunEvents(response);
  expect(events.at(-1)).toMatchObject({ type: "run-end", status: "ok" });
};

async function snapshot(gateway: TestGateway, query = ""): Promise<BackupStreamLine[]> {
  const response = await gateway.request("GET", `/backup/files${query}`, { tenant: null });
  expect(response.status).toBe(200);
  return (await response.text()).trim().split("\n").map((line) => BackupStreamLine.parse(JSON.parse(line)));
}

const filesOf = (lines: BackupStreamLine[]) => lines.filter((line): line is BackupFileLine => line.type === "file");
const restore = (gateway: TestGateway, tenantId: string, lines: unknown[]) =>
  gateway.request("PUT", `/backup/tenants/${tenantId}/files`, { tenant: null, body: lines.map((line) => JSON.stringify(line)).join("\n") });

beforeAll(async () => {
  source = await startTestGateway({ hookToken: TOKEN });
  target = await startTestGateway({ hookToken: TOKEN });
  expect((await source.createAgent(TENANT_A)).status).toBe(201);
  await chat(source, "first question", "one");
  await chat(source, "second question", "one");
  await chat(source, "another session", "two");
});
afterAll(async () => {
  await source?.cleanup();
  await target?.cleanup();
});

describe("GET /backup/files", () => {
  it("needs the hook token", async () => {
    const response = await source.request("GET", "/backup/files", { tenant: null, headers: { authorization: "Bearer wrong" } });
    expect(response.status).toBe(401);
  });

  it("cuts an append in flight, leaves out lock files and transcripts the registry does not name, and summarises the registry from what it copied", async () => {
    const agent = tenantPaths(source.dataDir, TENANT_A).agent("ada");
    const transcripts = (await readdir(agent.sessionsDir)).filter((name) => name.endsWith(".jsonl") && !name.startsWith("sessions."));
    const [first] = transcripts;
    // What another process's append looks like halfway through its write, and what a run holds.
    await appendFile(`${agent.sessionsDir}/${first}`, '{"type":"user","id":"half');
    await writeFile(`${agent.sessionsDir}/${first}.run.lock`, "{}");
    await writeFile(agent.transcript("33333333-3333-4333-8333-333333333333"), '{"type":"session"}\n');

    const lines = await snapshot(source, `?tenant=${TENANT_A}`);
    expect(lines[0]).toMatchObject({ type: "backup-start", tenants: [TENANT_A] });
    expect(lines.at(-1)).toMatchObject({ type: "backup-end", files: filesOf(lines).length });
    const files = new Map(filesOf(lines).map((file) => [file.path, Buffer.from(file.data, "base64")]));
    for (const [name, content] of files) {
      expect(createHash("sha256").update(content).digest("hex")).toBe(filesOf(lines).find((file) => file.path === name)!.sha256);
      expect(name).not.toMatch(/\.lock$|sessions\.journal\.jsonl$|33333333/);
      if (name.endsWith(".jsonl")) expect(content.at(-1)).toBe(0x0a);
    }
    expect(files.get(`agents/ada/sessions/${first}`)!.toString()).not.toContain('"half');
    const registry = z.record(z.string(), SessionSummary).parse(JSON.parse(files.get("agents/ada/sessions/sessions.json")!.toString()));
    expect(Object.keys(registry).sort()).toEqual(["one", "two"]);
    for (const session of Object.values(registry)) expect(files.has(`agents/ada/sessions/${session.sessionId}.jsonl`)).toBe(true);
    expect(registry.one!.messageCount).toBe(4);
    expect(files.has("agents/ada/agent.json") || [...files.keys()].some((name) => name.startsWith("workspace/ada/"))).toBe(true);
  });
});

describe("PUT /backup/tenants/:id/files", () => {
  it("restores a tenant into another gateway, which serves its sessions", async () => {
    const files = filesOf(await snapshot(source));
    const response = await restore(target, TENANT_A, files);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ tenantId: TENANT_A, files: files.length });
    const history = SessionHistory.parse(await (await target.request("GET", "/v1/agents/ada/sessions/one")).json());
    expect(history.entries.filter((entry) => entry.type === "user")).toHaveLength(2);
    await chat(target, "after the restore", "one");
    expect((await target.request("GET", "/backup/tenants", { tenant: null }).then((r) => r.json()))).toEqual({ tenants: [TENANT_A] });
  });

  it("refuses to overwrite a tenant that has files", async () => {
    const response = await restore(target, TENANT_A, filesOf(await snapshot(source)));
    expect(response.status).toBe(409);
    expect(await response.json()).toMatchObject({ error: { code: "tenant_exists" } });
  });

  it("refuses a file whose content does not match its checksum, or whose path leaves the tenant, and leaves nothing behind", async () => {
    const files = filesOf(await snapshot(source)).map((file) => ({ ...file, tenantId: TENANT_B }));
    const tampered = files.map((file, index) => (index === files.length - 1 ? { ...file, data: Buffer.from("changed").toString("base64"), bytes: 7 } : file));
    const damaged = await restore(target, TENANT_B, tampered);
    expect(damaged.status).toBe(400);
    expect(await damaged.json()).toMatchObject({ error: { code: "backup_invalid" } });
    const escaping = await restore(target, TENANT_B, [{ ...files[0]!, path: "../11111111-1111-4111-8111-111111111111/config.json" }]);
    expect(escaping.status).toBe(400);
    expect(await escaping.json()).toMatchObject({ error: { code: "invalid_path" } });
    expect((await target.request("GET", "/backup/tenants", { tenant: null }).then((r) => r.json()))).toEqual({ tenants: [TENANT_A] });
    // The tenant already there is untouched: its config is still the one restored from the source.
    expect(await readFile(tenantPaths(target.dataDir, TENANT_A).config, "utf8")).toBe(await readFile(tenantPaths(source.dataDir, TENANT_A).config, "utf8"));
  });
});
