import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decodeProtectedHeader } from "jose";
import { AppError } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSigningKeyRing } from "../auth/signing-keys";
import { openDatabase, type OpenDatabase } from "../db/open-database";
import { loadMasterKey, type MasterKey } from "../secrets/master-key";
import type { CliContext } from "./cli-command";
import { keysCommand } from "./keys-command";
import { runCli } from "./run-cli";

const cliPath = fileURLToPath(new URL("./workforce-cli.ts", import.meta.url));
const templateDir = fileURLToPath(new URL("../../dist/pglite-template", import.meta.url));
const ISSUER = "http://platform.test/auth/v1";
const USER = { id: "11111111-1111-4111-8111-111111111111", email: "ada@example.com" };

let tmp: string;
let env: Record<string, string>;
let masterKey: MasterKey;

/** The CLI as an operator runs it: a child process with the platform's environment. */
function workforce(...args: string[]) {
  return workforceWith({}, ...args);
}

function workforceWith(overrides: Record<string, string>, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ["--import", "tsx", cliPath, ...args], { env: { ...env, ...overrides }, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
}

/** What a platform process does with the same database: open it, load the keys, use them, close it. */
async function asPlatform<T>(fn: (keys: ReturnType<typeof createSigningKeyRing>, database: OpenDatabase) => Promise<T>): Promise<T> {
  const database = await openDatabase({ pgliteDataDir: env.PGLITE_DATA_DIR, pgliteTemplateDir: templateDir });
  try {
    const keys = createSigningKeyRing({ system: database.system, masterKey, now: () => new Date(), logError: (message, error) => console.error(message, error) });
    await keys.load();
    return await fn(keys, database);
  } finally {
    await database.close();
  }
}

const sign = async (keys: ReturnType<typeof createSigningKeyRing>) =>
  (await keys.issueAccessToken({ user: USER, sessionId: "s1", issuer: ISSUER, now: new Date() })).token;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "workforce-cli-"));
  env = {
    PATH: process.env.PATH ?? "",
    HOME: tmp,
    PGLITE_DATA_DIR: path.join(tmp, "db"),
    WORKFORCE_SECRET_KEY_FILE: path.join(tmp, "secret.key"),
  };
  masterKey = (await loadMasterKey({ source: "file", path: env.WORKFORCE_SECRET_KEY_FILE! })).masterKey;
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

// Every step starts a process and opens a file-backed PGlite: seconds each on a busy machine.
describe("npm run workforce -- keys (as a child process, on a PGlite directory)", { timeout: 120_000 }, () => {
  let oldToken: string;
  let oldKid: string;
  let standbyKid: string;

  it("says there is no database before the platform first started, instead of creating one", async () => {
    const result = await workforce("keys", "list");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`workforce: there is no embedded database in ${env.PGLITE_DATA_DIR} yet: start Workforce once`);
  });

  it("refuses to open the database while the platform has it open, saying to stop Workforce first", async () => {
    await asPlatform(async (keys) => {
      oldToken = await sign(keys);
      [oldKid, standbyKid] = keys.jwks().keys.map((key) => key.kid) as [string, string];
      const result = await workforce("keys", "list");
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^workforce: the embedded database .* is in use by another process \(pid \d+/);
      expect(result.stderr).toContain("Stop Workforce first");
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  });

  it("lists the keys", async () => {
    const result = await workforce("keys", "list");
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^KID\s+STATUS\s+CREATED\s+ACTIVATED\s+RETIRED\s+REVOKED$/);
    expect(lines[1]).toMatch(new RegExp(`^${oldKid}\\s+current\\s`));
    expect(lines[2]).toMatch(new RegExp(`^${standbyKid}\\s+standby\\s`));
  });

  it("rotates: a token signed before still verifies, new tokens carry the former standby's kid", async () => {
    const result = await workforce("keys", "rotate");
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${standbyKid}  is now current`);
    expect(result.stdout).toContain(`${oldKid}  is now previous`);
    expect(result.stdout).toContain(`npm run workforce -- keys revoke ${oldKid}`);
    await asPlatform(async (keys) => {
      expect((await keys.verifier({ issuer: ISSUER })(oldToken)).id).toBe(USER.id);
      expect(decodeProtectedHeader(await sign(keys)).kid).toBe(standbyKid);
    });
  });

  it("refuses to revoke the current key, then revokes the old one: its token is refused", async () => {
    const current = await workforce("keys", "revoke", standbyKid);
    expect(current.code).toBe(1);
    expect(current.stderr).toContain(`workforce: ${standbyKid} is the current signing key and cannot be revoked: run \`npm run workforce -- keys rotate\` first`);

    const result = await workforce("keys", "revoke", oldKid);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Revoked ${oldKid} (it was previous)`);
    expect(result.stdout).toMatch(/retired only \d+ minutes ago/);
    await asPlatform(async (keys) => {
      const verify = keys.verifier({ issuer: ISSUER });
      const error = await verify(oldToken).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(401);
      expect((await verify(await sign(keys))).id).toBe(USER.id);
    });
    const listed = await workforce("keys", "list");
    expect(listed.stdout).toMatch(new RegExp(`${oldKid}\\s+revoked\\s`));
  });

  it("refuses to rotate with a master key other than the platform's", async () => {
    const other = { WORKFORCE_SECRET_KEY_FILE: "", WORKFORCE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") };
    const result = await workforceWith(other, "keys", "rotate");
    expect(result.code).toBe(1);
    const stderr = result.stderr;
    expect(stderr).toMatch(new RegExp(`encrypted with master key ${masterKey.id}, not the configured one`));
    expect(stderr).toContain("must use the same WORKFORCE_SECRET_KEY");
  });
});

describe("the CLI's arguments (in-process)", () => {
  function context(): CliContext & { output: string[]; errors: string[] } {
    const output: string[] = [];
    const errors: string[] = [];
    return { env: {}, homeDir: "/nonexistent", now: () => new Date(), out: (line) => output.push(line), err: (line) => errors.push(line), output, errors };
  }

  it("describes itself with --help and each command with <command> --help", async () => {
    const overview = context();
    expect(await runCli(["--help"], overview, [keysCommand])).toBe(0);
    expect(overview.output.join("\n")).toMatch(/Usage: npm run workforce -- <command>[\s\S]*keys\s+list, rotate or revoke/);
    const keys = context();
    expect(await runCli(["keys", "--help"], keys, [keysCommand])).toBe(0);
    expect(keys.output.join("\n")).toMatch(/keys <list \| rotate \| revoke <kid> \| reset --yes>[\s\S]*standby[\s\S]*previous/);
  });

  it.each([
    [[], /Usage: npm run workforce/],
    [["nope"], /unknown command "nope"/],
    [["keys"], /keys needs a subcommand/],
    [["keys", "spin"], /unknown subcommand "keys spin"/],
    [["keys", "revoke"], /keys revoke needs the kid of one key/],
    [["keys", "list", "extra"], /keys list takes no arguments/],
    [["keys", "list", "--force"], /Unknown option '--force'/],
    [["keys", "reset"], /run it again with --yes/],
  ])("exits 1 with a readable message for %j", async (argv, message) => {
    const run = context();
    expect(await runCli(argv, run, [keysCommand])).toBe(1);
    expect(run.errors.join("\n")).toMatch(message);
  });
});
