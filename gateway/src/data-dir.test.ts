import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { dataDirMarkerPath } from "@workforce/protocol/tenant-path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "./config";
import { prepareDataDir } from "./data-dir";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) {
    await chmod(dir, 0o700).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "gateway-data-dir-"));
  dirs.push(dir);
  return dir;
}

describe("prepareDataDir", () => {
  it("creates a missing directory and a marker, and keeps the instance id across restarts", async () => {
    const dir = path.join(await tempDir(), "nested", "tenants");
    const first = await prepareDataDir(dir);
    const marker = JSON.parse(await readFile(dataDirMarkerPath(dir), "utf8")) as { instanceId: string };
    expect(first).toEqual({ path: dir, instanceId: marker.instanceId });
    expect((await prepareDataDir(dir)).instanceId).toBe(first.instanceId);
  });

  it("explains an unwritable directory with fixes for Linux and macOS", async () => {
    if (process.getuid?.() === 0) return; // root writes anywhere; the permission check cannot fail
    const parent = await tempDir();
    await chmod(parent, 0o500);
    const error = await prepareDataDir(path.join(parent, "tenants")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain(path.join(parent, "tenants"));
    expect(String(error)).toContain("Fix on Linux");
    expect(String(error)).toContain("Fix on macOS");
  });

  it("explains a path blocked by a file", async () => {
    const parent = await tempDir();
    await writeFile(path.join(parent, "file"), "x");
    const error = await prepareDataDir(path.join(parent, "file", "tenants")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain("not a directory");
  });

  it("refuses a damaged marker instead of silently changing the instance id", async () => {
    const dir = await tempDir();
    await writeFile(dataDirMarkerPath(dir), "{torn");
    await expect(prepareDataDir(dir)).rejects.toThrow(/damaged/);
  });
});
