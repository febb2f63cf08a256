/**
 * `workforce backup`, `backup verify` and `restore` (issue 12, decision 020) against real
 * processes: a gateway and a platform (PGlite) on the fake Anthropic upstream, the CLI as a child
 * process the way an operator or a cron job runs it. A full backup is taken while 20 chats stream;
 * restored into a fresh installation, every message completed before the backup is there exactly
 * once, nothing is there twice or in part, every file parses, and the restored platform serves
 * the sessions. A tampered archive fails verification, and restores that would overwrite refuse.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { OwnedSessionHistory } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, repoRoot, startFake, startGateway, startPlatform, type FakeService, type GatewayService, type PlatformService } from "../bench/lib/services";
import { jsonRequest } from "../bench/lib/sse-client";
import { createPlatformUser, platformTarget, type PlatformUser } from "../bench/lib/targets";
import { readTarGz, tarEntry } from "../platform/src/ops/backup/tar-archive";

const PASSWORD = "benchmark password 1";
const CHATS = 20;
const hookToken = `backup-${randomUUID()}`;
let tmp: string;
let fake: FakeService;
const started: { stop: () => Promise<unknown> }[] = [];

interface Installation {
  dataDir: string;
  pgliteDir: string;
  gateway: GatewayService;
  platform?: PlatformService;
}

const serviceEnv = () => ({
  WORKFORCE_SECRET_KEY_FILE: path.join(tmp, "secret.key"),
  WORKFORCE_TENANT_MAX_CONCURRENT_RUNS: String(CHATS),
  WORKFORCE_MAX_CONCURRENT_RUNS: String(CHATS),
});

async function startGatewayOn(dataDir: string): Promise<GatewayService> {
  const gateway = await startGateway({ dataDir, hookToken, fakeUrl: fake.url, source: true, port: await freePort(), env: serviceEnv() });
  started.push(gateway);
  return gateway;
}

async function startPlatformOn(installation: Installation): Promise<PlatformService> {
  const platform = await startPlatform({ gatewayUrl: installation.gateway.url, hookToken, dataDir: installation.dataDir, pgliteDir: installation.pgliteDir, source: true, env: serviceEnv() });
  started.push(platform);
  installation.platform = platform;
  return platform;
}

/** The operator CLI as a child process, with the platform's environment (stdout is a pipe: JSON lines). */
function workforce(installation: Installation, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: tmp,
    CLAWDBOT_GATEWAY_URL: installation.gateway.url,
    CLAWDBOT_HOOK_TOKEN: hookToken,
    TENANT_DATA_DIR: installation.dataDir,
    PGLITE_DATA_DIR: installation.pgliteDir,
    PORT: installation.platform ? new URL(installation.platform.url).port : "1",
    WORKFORCE_SECRET_KEY_FILE: path.join(tmp, "secret.key"),
  };
  const child = spawn(process.execPath, ["--import", "tsx", path.join(repoRoot, "platform/src/cli/workforce-cli.ts"), ...args], { env, cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

async function signIn(platformUrl: string, email: string): Promise<Record<string, string>> {
  const response = await jsonRequest<{ access_token: string }>(`${platformUrl}/auth/v1/token?grant_type=password`, "POST", {}, { email, password: PASSWORD });
  expect(response.status).toBe(200);
  return { authorization: `Bearer ${response.body.access_token}` };
}

interface ServedSession {
  key: string;
  userTexts: string[];
  assistantTexts: string[];
}

/** Every session of the agent as the platform serves it: the list, then each transcript. */
async function servedSessions(platformUrl: string, headers: Record<string, string>, slug: string): Promise<ServedSession[]> {
  const list = await jsonRequest<{ sessions: { key: string }[] }>(`${platformUrl}/api/agents/${slug}/sessions`, "GET", headers);
  expect(list.status).toBe(200);
  const sessions: ServedSession[] = [];
  for (const { key } of list.body.sessions) {
    const response = await jsonRequest(`${platformUrl}/api/agents/${slug}/sessions/${encodeURIComponent(key)}`, "GET", headers);
    expect(response.status).toBe(200);
    const history = OwnedSessionHistory.parse(response.body);
    const texts = (type: "user" | "assistant") => history.entries.flatMap((entry) => ((entry.type === "user" || entry.type === "assistant") && entry.type === type ? [JSON.stringify(entry.content)] : []));
    sessions.push({ key, userTexts: texts("user"), assistantTexts: texts("assistant") });
  }
  return sessions;
}

const source: Partial<Installation> & { user?: PlatformUser; email?: string } = {};
const target: Partial<Installation> = {};
let archivePath: string;
/** Chats whose reply had ended before the backup started, and chats that ended ok at all. */
const completedBefore = new Set<number>();
const completedAtAll = new Set<number>();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "wf-backup-e2e-"));
  fake = await startFake({ tokens: 30, tokenDelayMs: 20 });
  started.push(fake);
  source.dataDir = path.join(tmp, "source-tenants");
  source.pgliteDir = path.join(tmp, "source-db");
  source.gateway = await startGatewayOn(source.dataDir);
  await startPlatformOn(source as Installation);
  source.email = `ada-${randomUUID()}@example.com`;
  source.user = await createPlatformUser(source.platform!.url, source.email);
}, 180_000);

afterAll(async () => {
  for (const service of started.reverse()) await service.stop().catch(() => undefined);
  if (tmp) await rm(tmp, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

describe("workforce backup and restore (real processes)", { timeout: 300_000 }, () => {
  it("backs up while 20 chats stream, and the archive verifies", async () => {
    const installation = source as Installation;
    const target0 = platformTarget(installation.platform!.url, source.user!);
    let backupStartedAt = Number.POSITIVE_INFINITY;
    // Staggered, so some replies end before the backup starts, some during it, some after.
    const chats = Array.from({ length: CHATS }, async (_, index) => {
      await new Promise((resolve) => setTimeout(resolve, index * 150));
      const result = await target0.send(`chat ${index}: tell me about backups`, `chat-${index}`);
      if (result.status === 200 && result.end?.status === "ok") {
        completedAtAll.add(index);
        if (Date.now() < backupStartedAt) completedBefore.add(index);
      }
      return result;
    });
    // Start once a few replies are done (and others still streaming).
    while (completedAtAll.size < 3) await new Promise((resolve) => setTimeout(resolve, 20));
    archivePath = path.join(tmp, "full.tar.gz");
    backupStartedAt = Date.now();
    const backup = await workforce(installation, "backup", "--output", archivePath);
    const results = await Promise.all(chats);
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    // Not a terminal: progress comes as JSON lines.
    const events = backup.stdout.trim().split("\n").map((line) => JSON.parse(line) as { event: string; phase: string });
    expect(events.at(-1)).toMatchObject({ event: "done", phase: "backup written" });
    expect(events.some((event) => event.phase === "database")).toBe(true);
    expect(results.filter((result) => result.status === 200)).toHaveLength(CHATS);
    expect(completedAtAll.size).toBe(CHATS);
    expect(completedBefore.size).toBeGreaterThan(0);
    expect(completedBefore.size).toBeLessThan(CHATS);

    const verified = await workforce(installation, "backup", "verify", archivePath);
    expect(verified.stderr).toBe("");
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout.trim())).toMatchObject({ event: "done", phase: "verified", scope: "full", tenants: 1 });

    // What the archive holds, read independently: no half line in any JSONL, every registry entry with its transcript.
    const files = new Map(readTarGz(await readFile(archivePath)).map((file) => [file.name, file.content]));
    for (const [name, content] of files) {
      if (name.endsWith(".jsonl")) {
        expect(content.at(-1), name).toBe(0x0a);
        for (const line of content.toString("utf8").trim().split("\n")) expect(() => JSON.parse(line), `${name}: ${line.slice(0, 80)}`).not.toThrow();
      }
    }
    const registryName = [...files.keys()].find((name) => name.endsWith("/sessions/sessions.json"));
    const registry = JSON.parse(files.get(registryName!)!.toString("utf8")) as Record<string, { sessionId: string }>;
    for (const session of Object.values(registry)) expect(files.has(`${path.posix.dirname(registryName!)}/${session.sessionId}.jsonl`)).toBe(true);
    expect(files.has("database/pglite-datadir.tar.gz")).toBe(true);
  });

  it("restores into a fresh installation, which serves every completed chat exactly once", async () => {
    target.dataDir = path.join(tmp, "target-tenants");
    target.pgliteDir = path.join(tmp, "target-db");
    target.gateway = await startGatewayOn(target.dataDir);
    const restored = await workforce(target as Installation, "restore", archivePath);
    expect(restored.stderr).toBe("");
    expect(restored.code).toBe(0);
    expect(JSON.parse(restored.stdout.trim().split("\n").at(-1)!)).toMatchObject({ event: "done", phase: "restored", scope: "full" });

    const platform = await startPlatformOn(target as Installation);
    const headers = { ...(await signIn(platform.url, source.email!)), "x-tenant-id": source.user!.tenantId };
    const sessions = await servedSessions(platform.url, headers, source.user!.slug);
    for (let index = 0; index < CHATS; index += 1) {
      const session = sessions.find((candidate) => candidate.key === `chat-${index}`);
      const asked = session?.userTexts.filter((text) => text.includes(`chat ${index}:`)) ?? [];
      if (completedBefore.has(index)) {
        expect(asked, `chat ${index} completed before the backup`).toHaveLength(1);
      }
      // Present or not (it ended during the backup), never twice, never a question without its answer.
      expect(asked.length).toBeLessThanOrEqual(1);
      if (session) expect(session.assistantTexts.length, `chat ${index}`).toBe(session.userTexts.length);
    }
    // The restored system takes new messages in the restored sessions.
    const next = await platformTarget(platform.url, { ...source.user!, headers }).send("after the restore", "chat-0");
    expect(next.end?.status, JSON.stringify({ ...next, text: undefined })).toBe("ok");
  });

  it("refuses a full restore into an installation that is not empty", async () => {
    const again = await workforce(target as Installation, "restore", archivePath);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/workforce: the target installation is not empty: the gateway's TENANT_DATA_DIR holds 1 organisation/);
  });

  it("verify fails on a tampered archive and on a truncated one, and restore then writes nothing", async () => {
    const entries = readTarGz(await readFile(archivePath));
    const transcript = entries.find((entry) => /\/sessions\/[0-9a-f-]+\.jsonl$/.test(entry.name))!;
    transcript.content = Buffer.from(transcript.content.toString("utf8").replace("backups", "BACKUPS"));
    const tampered = path.join(tmp, "tampered.tar.gz");
    await writeFile(tampered, gzipSync(Buffer.concat([...entries.flatMap((entry) => tarEntry(entry.name, entry.content)), Buffer.alloc(1024)])));
    const verified = await workforce(source as Installation, "backup", "verify", tampered);
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain(`${transcript.name} does not match its checksum`);
    expect(verified.stderr).toMatch(/failed verification \(1 problem\)/);

    const truncated = path.join(tmp, "truncated.tar.gz");
    const whole = await readFile(archivePath);
    await writeFile(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    const cut = await workforce(source as Installation, "backup", "verify", truncated);
    expect(cut.code).toBe(1);
    expect(cut.stderr).toMatch(/the archive cannot be read/);

    const restore = await workforce(target as Installation, "restore", tampered);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toContain("failed verification, nothing was restored");
  });

  it("backs up one organisation and restores it into a running installation, refusing one that has it", async () => {
    const installation = source as Installation;
    const email = `grace-${randomUUID()}@example.com`;
    const grace = await createPlatformUser(installation.platform!.url, email);
    const chat = await platformTarget(installation.platform!.url, grace).send("grace's question", "only");
    expect(chat.end?.status).toBe("ok");
    // Once the chat is searchable (the index job runs after the reply), so the backup holds its
    // search row: a generated column that the restore must leave to Postgres (it used to fail then).
    await expect
      .poll(async () => (await jsonRequest<{ results?: unknown[] }>(`${installation.platform!.url}/api/search?q=grace`, "GET", grace.headers)).body.results?.length ?? 0, { timeout: 20_000 })
      .toBe(1);
    const graceArchive = path.join(tmp, "grace.tar.gz");
    const backup = await workforce(installation, "backup", "--tenant", grace.tenantId, "--output", graceArchive);
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);

    // Into the installation it came from: refused, nothing overwritten.
    const refused = await workforce(installation, "restore", graceArchive);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`organisation ${grace.tenantId} already has files on the gateway; a restore never overwrites`));

    // Into the restored installation, which is running and does not have it.
    const restored = await workforce(target as Installation, "restore", graceArchive);
    expect(restored.stderr).toBe("");
    expect(restored.code).toBe(0);
    const platform = target.platform!;
    const headers = { ...(await signIn(platform.url, email)), "x-tenant-id": grace.tenantId };
    const sessions = await servedSessions(platform.url, headers, grace.slug);
    expect(sessions.map((session) => session.key)).toEqual(["only"]);
    expect(sessions[0]!.userTexts).toHaveLength(1);
    expect(sessions[0]!.userTexts[0]).toContain("grace's question");
    expect(sessions[0]!.assistantTexts).toHaveLength(1);
    // Her chat is searchable in the installation it was restored into.
    const found = await jsonRequest<{ results: { sessionKey: string }[] }>(`${platform.url}/api/search?q=grace`, "GET", headers);
    expect(found.body.results.map((result) => result.sessionKey)).toEqual(["only"]);
  });
});
