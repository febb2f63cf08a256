import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, "../..");
const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe("the guide's per-folder commands name one workspace", () => {
  it("`npm run migrate -w platform` migrates and exits 0 (platform/web is not a second match)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "wf-migrate-"));
    scratch.push(dir);
    const env = { ...process.env, PGLITE_DATA_DIR: path.join(dir, "db"), DATABASE_URL: "" };
    delete (env as Record<string, string | undefined>).DATABASE_URL;
    const { stdout } = await run("npm", ["run", "migrate", "-w", "platform"], { cwd: root, env, timeout: 120_000 });
    expect(stdout).toContain("applied 001-initial");
    expect(stdout).not.toContain("@workforce/web");
  }, 150_000);

  it("`npm query .workspace` lists the platform API but not the web app as a workspace", async () => {
    const { stdout } = await run("npm", ["query", ".workspace"], { cwd: root, timeout: 60_000 });
    const names = (JSON.parse(stdout) as { name: string }[]).map((entry) => entry.name).sort();
    expect(names).toContain("@workforce/platform");
    expect(names).not.toContain("@workforce/web");
  }, 90_000);
});
