import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { GatewayHealth } from "@workforce/protocol";
import { dataDirMarkerPath } from "@workforce/protocol/tenant-path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dataDirProblem, readDataDirMarker } from "./data-dir-identity";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "workforce-marker-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const health = (instanceId: string, dataDir: string): GatewayHealth => ({
  status: "ok",
  service: "gateway",
  version: "1",
  uptimeSeconds: 1,
  dataDir: { path: dataDir, instanceId },
  model: { provider: "offline", id: "offline", offline: true },
});

describe("data-dir identity", () => {
  it("agrees when the marker carries the gateway's instance id", async () => {
    await writeFile(dataDirMarkerPath(dir), JSON.stringify({ instanceId: "abc", createdAt: "now" }));
    expect(dataDirProblem(health("abc", dir), await readDataDirMarker(dir), dir)).toBeUndefined();
  });

  it("names both paths and the fix when the marker is missing", async () => {
    const problem = dataDirProblem(health("abc", "/srv/gateway-tenants"), await readDataDirMarker(dir), dir);
    expect(problem).toContain("/srv/gateway-tenants");
    expect(problem).toContain(dir);
    expect(problem).toContain("does not exist");
    expect(problem).toMatch(/Fix: start both services with the same absolute TENANT_DATA_DIR/);
  });

  it("reports a different instance id", async () => {
    await writeFile(dataDirMarkerPath(dir), JSON.stringify({ instanceId: "other" }));
    expect(dataDirProblem(health("abc", "/elsewhere"), await readDataDirMarker(dir), dir)).toMatch(/instance id other, but the gateway reports abc/);
  });
});
