import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test-support/free-port";
import { checkNamed, doctorIn, doctorJson } from "./doctor-test-support";
import { checkNodeVersion } from "./environment-checks";

let tmp: string;
let base: Record<string, string>;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), "wf-doctor-config-"));
  // Nothing runs on these ports: configuration-only mode.
  base = {
    PATH: process.env.PATH ?? "",
    HOME: tmp,
    PORT: String(await freePort()),
    CLAWDBOT_GATEWAY_URL: `http://127.0.0.1:${await freePort()}`,
    TENANT_DATA_DIR: path.join(tmp, "tenants"),
    PGLITE_DATA_DIR: path.join(tmp, "db"),
  };
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe("workforce doctor with nothing running (configuration only)", { timeout: 60_000 }, () => {
  it("passes a sound configuration, creates nothing, and exits 0 with --json from the bin", async () => {
    const { code, report } = await doctorJson(base);
    expect(report.live).toBe(false);
    expect(checkNamed(report.checks, "tenant data dir")).toMatchObject({ status: "pass", detail: expect.stringContaining("does not exist yet; the gateway creates it") });
    expect(checkNamed(report.checks, "gateway")).toMatchObject({ status: "skip" });
    expect(checkNamed(report.checks, "database")).toMatchObject({ status: "warn", fix: expect.stringContaining("npm start") });
    expect(report.checks.filter((check) => check.status === "fail")).toEqual([]);
    expect(report.ok).toBe(true);
    expect(code).toBe(0);
  });

  it("fails a TENANT_DATA_DIR that is a file, without advising mkdir on it, and exits 1", async () => {
    const file = path.join(tmp, "a-file");
    await writeFile(file, "x");
    const { code, report } = await doctorJson({ ...base, TENANT_DATA_DIR: file });
    const check = checkNamed(report.checks, "tenant data dir");
    expect(check).toMatchObject({ status: "fail", detail: expect.stringContaining(`${file} is a file, not a directory`) });
    expect(check?.fix).not.toContain(`mkdir -p ${file}`);
    expect(report.ok).toBe(false);
    expect(code).toBe(1);
  });

  it("fails TENANT_DATA_DIR=/proc/x: a virtual file system", async () => {
    const report = await doctorIn({ ...base, TENANT_DATA_DIR: "/proc/x" });
    expect(report.check("tenant data dir")).toMatchObject({ status: "fail", detail: expect.stringContaining("/proc is on a virtual file system (proc)") });
  });

  it("says read-only for a data dir on a read-only mount (the guide's ENOENT on /data and 'Read-only file system')", async () => {
    const mountPoint = await mkdtemp(path.join(tmp, "ro-"));
    const { code, report } = await doctorJson({ ...base, TENANT_DATA_DIR: path.join(mountPoint, "data", "tenants") }, `mount -t tmpfs -o ro tmpfs "${mountPoint}"`);
    const check = checkNamed(report.checks, "tenant data dir");
    expect(check).toMatchObject({ status: "fail", detail: expect.stringContaining(`the file system holding ${mountPoint} is read-only (EROFS)`) });
    expect(check?.fix).toContain("On macOS the root file system is read-only: mkdir -p ~/data/tenants && export TENANT_DATA_DIR=$HOME/data/tenants");
    expect(code).toBe(1);
  });

  it("fails when the disk holding the data dir is almost full (a 1 MiB file system)", async () => {
    const mountPoint = await mkdtemp(path.join(tmp, "small-"));
    const { report } = await doctorJson({ ...base, TENANT_DATA_DIR: path.join(mountPoint, "tenants") }, `mount -t tmpfs -o size=1m tmpfs "${mountPoint}"`);
    expect(checkNamed(report.checks, "disk space (TENANT_DATA_DIR)")).toMatchObject({ status: "fail", detail: expect.stringMatching(/^almost full: .* free/) });
  });

  it("fails a platform port that another process holds, and names both ways out", async () => {
    // Some other web app on the port: it answers, but not as Workforce.
    const other = http.createServer((_request, response) => response.writeHead(404, { connection: "close" }).end("not here"));
    await new Promise<void>((resolve) => other.listen(Number(base.PORT), "127.0.0.1", resolve));
    try {
      const report = await doctorIn(base);
      expect(report.check("platform port")).toMatchObject({
        status: "fail",
        detail: `port ${base.PORT} (127.0.0.1) for the platform is already in use by another process`,
        fix: expect.stringContaining("choose a free port with PORT"),
      });
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it("fails an invalid variable but still runs the other checks", async () => {
    const report = await doctorIn({ ...base, TENANT_DATA_DIR: "relative/tenants" });
    expect(report.check("configuration")).toMatchObject({ status: "fail", detail: expect.stringContaining("TENANT_DATA_DIR") });
    expect(report.check("tenant data dir")).toMatchObject({ status: "fail", detail: expect.stringContaining("must be an absolute path") });
    expect(report.check("platform port").status).toBe("pass");
  });

  it("fails a Node older than 20", () => {
    expect(checkNodeVersion("18.19.1")).toMatchObject({ status: "fail", fix: expect.stringContaining("Node 20") });
    expect(checkNodeVersion(process.versions.node).status).toBe("pass");
  });
});
