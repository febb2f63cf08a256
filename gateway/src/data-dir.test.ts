import { spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { explainDataDirError } from "@workforce/protocol/data-dir-check";
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

  it("explains an unwritable directory: permission denied, with the chown fix and a home directory", async () => {
    if (process.getuid?.() === 0) return; // root writes anywhere; the permission check cannot fail
    const parent = await tempDir();
    await chmod(parent, 0o500);
    const error = await prepareDataDir(path.join(parent, "tenants")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain(path.join(parent, "tenants"));
    expect(String(error)).toContain(`permission denied on ${path.join(parent, "tenants")} (EACCES)`);
    expect(String(error)).toContain(`sudo mkdir -p ${path.join(parent, "tenants")} && sudo chown $USER`);
    expect(String(error)).toContain("mkdir -p ~/data/tenants && export TENANT_DATA_DIR=$HOME/data/tenants");
  });

  it("explains a path blocked by a file", async () => {
    const parent = await tempDir();
    await writeFile(path.join(parent, "file"), "x");
    const error = await prepareDataDir(path.join(parent, "file", "tenants")).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain(`${path.join(parent, "file")} is a file, so ${path.join(parent, "file", "tenants")} cannot be created under it`);
    expect(String(error)).not.toContain("sudo mkdir");
  });

  it("calls a TENANT_DATA_DIR that is a device a device, and never advises mkdir on it", async () => {
    const error = await prepareDataDir("/dev/null").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain("/dev/null is a character device, not a directory");
    expect(String(error)).not.toContain("mkdir -p /dev/null");
  });

  it("gives up at once on /proc/x (Node's recursive mkdir loops there forever) and says why", async () => {
    const started = Date.now();
    const error = await prepareDataDir("/proc/x").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect(String(error)).toContain("/proc is on a virtual file system (proc)");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("says read-only for a read-only mount: the real gateway, started on a tmpfs mounted ro in its own namespace", { timeout: 60_000 }, async () => {
    const mountPoint = await tempDir();
    const cli = fileURLToPath(new URL("./cli.ts", import.meta.url));
    // unshare -r makes an unprivileged user root of a new mount namespace, so no real mount is touched.
    const script = `mount -t tmpfs -o ro tmpfs "${mountPoint}" && exec "${process.execPath}" --import tsx "${cli}" run --port 0`;
    const child = spawn("unshare", ["-rm", "sh", "-c", script], { env: { ...process.env, TENANT_DATA_DIR: path.join(mountPoint, "tenants") }, stdio: ["ignore", "pipe", "pipe"] });
    // The reason is a JSON log record on stdout (decision 022); unshare's own complaints go to stderr.
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(output).toContain(`the file system holding ${path.join(mountPoint, "tenants")} is read-only (EROFS)`);
    expect(output).toContain("On macOS the root file system is read-only");
    expect(output).not.toMatch(/permission denied|ENOENT/i);
    expect(code).toBe(1);
  });

  it("gives the macOS fix first on macOS, whose read-only root answers mkdir /data with EROFS", () => {
    // macOS cannot be run here; the EROFS error has the shape of the one fs.mkdir rejects with there.
    const erofs = Object.assign(new Error("EROFS: read-only file system, mkdir '/data'"), { code: "EROFS", errno: -30, syscall: "mkdir", path: "/data" });
    const problem = explainDataDirError("/data/tenants", "/data", erofs, "darwin");
    expect(problem.kind).toBe("read_only");
    expect(problem.fix).toMatch(/^on macOS \(Catalina and later\) the root file system is read-only: use a directory in your home, mkdir -p ~\/data\/tenants/);
  });

  it("refuses a damaged marker instead of silently changing the instance id", async () => {
    const dir = await tempDir();
    await writeFile(dataDirMarkerPath(dir), "{torn");
    await expect(prepareDataDir(dir)).rejects.toThrow(/damaged/);
  });
});
