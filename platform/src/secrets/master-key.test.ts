import { randomBytes } from "node:crypto";
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret } from "./envelope";
import { loadMasterKey, masterKeyFromBytes, MasterKeyError } from "./master-key";
import { parseMasterKey, readSecretKeyConfig } from "./secret-key-config";

const HOME = "/home/ada";
const KEY = randomBytes(32);
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** The 43rd character carries 4 bits and 2 zero bits; setting one of those decodes to the same bytes. */
const nonCanonical = (text: string) => `${text.slice(0, 42)}${ALPHABET[ALPHABET.indexOf(text[42]!) + 1]}`;

describe("readSecretKeyConfig", () => {
  it("defaults to a key file next to the embedded database", () => {
    expect(readSecretKeyConfig({}, HOME)).toEqual({ ok: true, config: { source: "file", path: "/home/ada/.workforce/secret.key" } });
    expect(readSecretKeyConfig({ WORKFORCE_SECRET_KEY: " ", WORKFORCE_SECRET_KEY_FILE: "/srv/wf/key" }, HOME)).toEqual({
      ok: true,
      config: { source: "file", path: "/srv/wf/key" },
    });
  });

  it.each([
    ["base64", KEY.toString("base64")],
    ["base64 without padding", KEY.toString("base64").replace(/=$/, "")],
    ["base64url", KEY.toString("base64url")],
    ["with a trailing newline", `${KEY.toString("base64")}\n`],
  ])("accepts WORKFORCE_SECRET_KEY in %s", (_name, value) => {
    const result = readSecretKeyConfig({ WORKFORCE_SECRET_KEY: value }, HOME);
    expect(result.ok && result.config.source === "env" && Buffer.from(result.config.key).equals(KEY)).toBe(true);
  });

  it.each([
    ["too short", randomBytes(16).toString("base64"), /must be 32 random bytes in base64 or base64url \(44 characters, got 24\); generate one with `openssl rand -base64 32`/],
    ["too long", randomBytes(48).toString("base64"), /44 characters, got 64/],
    ["hex", KEY.toString("hex"), /looks like hex/],
    ["a passphrase", "correct horse battery staple", /openssl rand -base64 32/],
    ["mixed alphabets", `+_${KEY.toString("base64url").slice(2)}`, /must be 32 random bytes/],
    ["a space inside", `${KEY.toString("base64").slice(0, 20)} ${KEY.toString("base64").slice(21)}`, /must be 32 random bytes/],
    ["a non-canonical last character", nonCanonical(KEY.toString("base64url")), /not canonical/],
  ])("refuses a key that is %s, naming the variable and how to make one", (_name, value, message) => {
    const result = readSecretKeyConfig({ WORKFORCE_SECRET_KEY: value }, HOME);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^WORKFORCE_SECRET_KEY: /);
    expect(result.problems[0]).toMatch(message);
    expect(result.problems[0]).not.toContain(value.trim());
  });

  it("refuses a relative key file and both variables at once", () => {
    expect(readSecretKeyConfig({ WORKFORCE_SECRET_KEY_FILE: "secret.key" }, HOME)).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^WORKFORCE_SECRET_KEY_FILE: must be an absolute path/)],
    });
    const both = readSecretKeyConfig({ WORKFORCE_SECRET_KEY: KEY.toString("base64"), WORKFORCE_SECRET_KEY_FILE: "/srv/key" }, HOME);
    expect(both).toEqual({ ok: false, problems: [expect.stringMatching(/^WORKFORCE_SECRET_KEY_FILE: is set together with WORKFORCE_SECRET_KEY/)] });
  });

  it("takes WORKFORCE_SECRET_KEY_PREVIOUS beside WORKFORCE_SECRET_KEY during a rotation, and refuses it alone or malformed", async () => {
    const previous = randomBytes(32);
    const result = readSecretKeyConfig({ WORKFORCE_SECRET_KEY: KEY.toString("base64"), WORKFORCE_SECRET_KEY_PREVIOUS: previous.toString("base64url") }, HOME);
    expect(result.ok && result.config.source === "env" && Buffer.from(result.config.previous!).equals(previous)).toBe(true);
    if (!result.ok) return;
    const loaded = await loadMasterKey(result.config);
    expect(loaded.previous?.id).toBe(masterKeyFromBytes(previous).id);
    expect(loaded.warnings).toEqual([`WORKFORCE_SECRET_KEY_PREVIOUS (master key ${loaded.previous!.id}) is set: run \`npm run workforce -- secrets rotate-master-key\`, then remove it`]);
    expect(readSecretKeyConfig({ WORKFORCE_SECRET_KEY_PREVIOUS: previous.toString("base64") }, HOME)).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^WORKFORCE_SECRET_KEY_PREVIOUS: is set without WORKFORCE_SECRET_KEY/)],
    });
    const bad = readSecretKeyConfig({ WORKFORCE_SECRET_KEY: KEY.toString("base64"), WORKFORCE_SECRET_KEY_PREVIOUS: "hunter2" }, HOME);
    expect(bad).toEqual({ ok: false, problems: [expect.stringMatching(/^WORKFORCE_SECRET_KEY_PREVIOUS: must be 32 random bytes/)] });
    expect(JSON.stringify(bad)).not.toContain("hunter2");
  });

  it("only accepts the canonical encoding of a key (a key with a changed character is not silently another key)", () => {
    const text = KEY.toString("base64");
    expect(parseMasterKey(text).ok).toBe(true);
    expect(parseMasterKey(`${text.slice(0, 43)}==`).ok).toBe(false);
  });
});

describe("loadMasterKey", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "workforce-secret-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("uses WORKFORCE_SECRET_KEY as it is, touching no file", async () => {
    const loaded = await loadMasterKey({ source: "env", key: KEY });
    expect(loaded.masterKey.id).toBe(masterKeyFromBytes(KEY).id);
    expect(loaded).toMatchObject({ source: "env", created: false, warnings: [] });
    expect(JSON.stringify(loaded.masterKey)).not.toContain(KEY.toString("base64"));
  });

  it("creates the key file once, private to its owner, with a warning to back it up; later loads read the same key", async () => {
    const file = path.join(dir, "nested", "secret.key");
    const first = await loadMasterKey({ source: "file", path: file });
    expect(first.created).toBe(true);
    expect(first.warnings).toEqual([expect.stringContaining(`Back up ${file}: without it the organisations' integration secrets (model keys, MCP and Composio credentials, webhook secrets) and the signing keys cannot be read, and are lost for good`)]);
    expect(first.warnings[0]).toContain("several platform processes must share WORKFORCE_SECRET_KEY");
    if (process.platform !== "win32") {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    }
    const again = await loadMasterKey({ source: "file", path: file });
    expect(again).toMatchObject({ created: false, warnings: [] });
    expect(again.masterKey.id).toBe(first.masterKey.id);
    // What one load encrypted, the next load decrypts: the file holds the key, not a new one each time.
    expect(decryptSecret(again.masterKey, encryptSecret(first.masterKey, "kept", "ad"), "ad").toString()).toBe("kept");
    // The file's contents are usable as WORKFORCE_SECRET_KEY on other processes.
    const asEnv = readSecretKeyConfig({ WORKFORCE_SECRET_KEY: await readFile(file, "utf8") }, HOME);
    expect(asEnv.ok && asEnv.config.source === "env" && masterKeyFromBytes(asEnv.config.key).id).toBe(first.masterKey.id);
  });

  it("ends with one key when many loads race to create the file", async () => {
    const file = path.join(dir, "secret.key");
    const loads = await Promise.all(Array.from({ length: 16 }, () => loadMasterKey({ source: "file", path: file })));
    expect(new Set(loads.map((loaded) => loaded.masterKey.id)).size).toBe(1);
    expect(loads.filter((loaded) => loaded.created)).toHaveLength(1);
    // No temporary files are left behind.
    expect(await readdir(dir)).toEqual(["secret.key"]);
  });

  it("does not create a key when told not to (the CLI must use the platform's)", async () => {
    const file = path.join(dir, "secret.key");
    const error = await loadMasterKey({ source: "file", path: file }, { create: false }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MasterKeyError);
    expect((error as Error).message).toMatch(/WORKFORCE_SECRET_KEY is unset and .*secret\.key does not exist/);
    expect(await readdir(dir)).toEqual([]);
  });

  it("refuses a damaged key file instead of replacing it, and warns about one others can read", async () => {
    const file = path.join(dir, "secret.key");
    await writeFile(file, "not a key\n", { mode: 0o600 });
    await expect(loadMasterKey({ source: "file", path: file })).rejects.toThrow(/secret\.key is damaged .*restore it from your backup/);
    expect(await readFile(file, "utf8")).toBe("not a key\n");

    if (process.platform === "win32") return;
    await writeFile(file, `${KEY.toString("base64")}\n`);
    await chmod(file, 0o644);
    const loaded = await loadMasterKey({ source: "file", path: file });
    expect(loaded.masterKey.id).toBe(masterKeyFromBytes(KEY).id);
    expect(loaded.warnings).toEqual([`the master key file ${file} can be read by other users (mode 644); run: chmod 600 ${file}`]);
  });
});
