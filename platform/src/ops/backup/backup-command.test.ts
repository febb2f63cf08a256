import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CliContext } from "../../cli/cli-command";
import { runCli } from "../../cli/run-cli";
import { backupCommand } from "./backup-command";
import type { BackupManifest} from "./backup-manifest";
import { MANIFEST_NAME, sha256 } from "./backup-manifest";
import { restoreCommand } from "./restore-command";
import { readTarGz, TarGzWriter } from "./tar-archive";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "wf-backup-cli-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function context(isTty = false): CliContext & { output: string[]; errors: string[] } {
  const output: string[] = [];
  const errors: string[] = [];
  return { env: {}, homeDir: tmp, now: () => new Date(), out: (line) => output.push(line), err: (line) => errors.push(line), isTty, output, errors };
}

const TRANSCRIPT = "tenants/11111111-1111-4111-8111-111111111111/agents/a-rather-long-agent-slug/sessions/22222222-2222-4222-8222-222222222222.jsonl";

/** A small archive as `workforce backup` writes it: entries, then the manifest. */
async function writeArchive(file: string, entries: Record<string, string>): Promise<void> {
  const writer = new TarGzWriter(file);
  const listed: BackupManifest["entries"] = [];
  for (const [name, text] of Object.entries(entries)) {
    await writer.add(name, Buffer.from(text));
    listed.push({ path: name, bytes: Buffer.byteLength(text), sha256: sha256(Buffer.from(text)) });
  }
  const manifest: BackupManifest = {
    format: "workforce-backup",
    version: 1,
    createdAt: new Date().toISOString(),
    scope: { kind: "tenant", tenantId: "11111111-1111-4111-8111-111111111111" },
    database: { kind: "tenant-rows", path: "database/tenant-rows.json" },
    tenants: ["11111111-1111-4111-8111-111111111111"],
    entries: listed,
  };
  await writer.add(MANIFEST_NAME, Buffer.from(JSON.stringify(manifest)));
  await writer.close();
}

describe("the backup archive", () => {
  it("is a tar.gz that the system's tar lists, long names included", async () => {
    const file = path.join(tmp, "plain.tar.gz");
    await writeArchive(file, { [TRANSCRIPT]: '{"type":"session"}\n', "database/tenant-rows.json": '{"tenantId":"11111111-1111-4111-8111-111111111111","tables":{}}' });
    const listed = execFileSync("tar", ["-tzf", file], { encoding: "utf8" }).trim().split("\n");
    expect(listed).toEqual([TRANSCRIPT, "database/tenant-rows.json", MANIFEST_NAME]);
    expect(readTarGz(await readFile(file)).map((entry) => entry.name)).toEqual(listed);
  });

  it("verifies (JSON lines on a pipe), and names a torn JSONL line and a registry naming a missing transcript", async () => {
    const good = path.join(tmp, "good.tar.gz");
    await writeArchive(good, { [TRANSCRIPT]: '{"type":"session"}\n', "database/tenant-rows.json": '{"tenantId":"x","tables":{}}' });
    const ok = context();
    expect(await runCli(["backup", "verify", good], ok, [backupCommand])).toBe(0);
    expect(JSON.parse(ok.output.at(-1)!)).toMatchObject({ event: "done", phase: "verified", scope: "tenant", entries: 2 });

    const bad = path.join(tmp, "bad.tar.gz");
    const registry = TRANSCRIPT.replace(/[^/]+\.jsonl$/, "sessions.json");
    const summary = { key: "k", sessionId: "33333333-3333-4333-8333-333333333333", title: "t", createdAt: "2026-01-01T00:00:00.000Z", updatedAt: "2026-01-01T00:00:00.000Z", model: null, inputTokens: 0, outputTokens: 0, messageCount: 0, lastMessagePreview: "" };
    await writeArchive(bad, { [TRANSCRIPT]: '{"type":"session"}\n{"type":"us', [registry]: JSON.stringify({ k: summary }) });
    const failed = context(true);
    expect(await runCli(["backup", "verify", bad], failed, [backupCommand])).toBe(1);
    const errors = failed.errors.join("\n");
    expect(errors).toContain(`✗ ${TRANSCRIPT} ends in half a line`);
    expect(errors).toContain("names session 33333333-3333-4333-8333-333333333333, whose transcript is not in the archive");
    expect(errors).toMatch(/workforce: .*bad\.tar\.gz failed verification \(2 problems\)/);
  });

  it("restore refuses an archive that is not a backup before contacting anything", async () => {
    const file = path.join(tmp, "not-a-backup.tar.gz");
    await writeFile(file, "hello");
    const run = context();
    expect(await runCli(["restore", file], run, [restoreCommand])).toBe(1);
    expect(run.errors.join("\n")).toMatch(/failed verification, nothing was restored: the archive cannot be read/);
  });

  it.each([
    [["backup", "verify"], /backup verify needs the archive to check/],
    [["backup", "spin"], /unknown subcommand "backup spin"/],
    [["backup", "--bogus"], /Unknown option '--bogus'/],
    [["restore"], /restore needs one archive/],
  ])("exits 1 with a readable message for %j", async (argv, message) => {
    const run = context();
    expect(await runCli(argv, run, [backupCommand, restoreCommand])).toBe(1);
    expect(run.errors.join("\n")).toMatch(message);
  });
});
