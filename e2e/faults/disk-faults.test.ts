/**
 * Disk faults under a running gateway: TENANT_DATA_DIR on a file system that turns read-only, one
 * that fills up, and the directory removed while the gateway runs. The tests run as root, where
 * chmod stops nothing, so the faults are real mounts (a small tmpfs, remounted read-only or
 * filled); where `mount` is not allowed the mount-based cases are skipped with a note.
 * Expected: a clear error code (HTTP error or run-end), no hang, no half-written registry or
 * temp file left behind, reads keep working, and writes work again once the disk is back.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startFakeUpstream, type FakeUpstream } from "@workforce/fake-upstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FAKE_API_KEY, startGateway, startPlatform, type GatewayService, type PlatformService } from "../../bench/lib/services";
import { jsonRequest, stream, type StreamResult } from "../../bench/lib/sse-client";
import { createGatewayAgent, createPlatformUser, gatewayTarget, type GatewayTenant, type PlatformUser } from "../../bench/lib/targets";
import { inspectDataDir } from "./support";

const hookToken = `disk-faults-${randomUUID()}`;
const mountPoints: string[] = [];

function mountTmpfs(dir: string, size: string): void {
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  mountPoints.push(dir);
}

function remount(dir: string, mode: "ro" | "rw"): void {
  execFileSync("mount", ["-o", `remount,${mode}`, dir], { stdio: "pipe" });
}

async function canMount(): Promise<boolean> {
  const probe = await mkdtemp(path.join(os.tmpdir(), "wf-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "pipe" });
    execFileSync("umount", [probe], { stdio: "pipe" });
    return true;
  } catch {
    return false;
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
}

const mountable = await canMount();
if (!mountable) console.warn("disk-faults: `mount` is not permitted here; the read-only and disk-full cases are skipped (the removed-directory case still runs)");

let fake: FakeUpstream;

beforeAll(async () => {
  fake = await startFakeUpstream({ apiKey: FAKE_API_KEY, tokenDelayMs: 1, recordRequests: false });
});

afterAll(async () => {
  await fake?.close();
  for (const dir of mountPoints.reverse()) {
    try {
      execFileSync("umount", ["-l", dir], { stdio: "pipe" });
    } catch {
      // already gone
    }
    await rm(dir, { recursive: true, force: true });
  }
});

/** A run answered with a clear code, either as the HTTP error or as the run-end's error code. */
function codeOf(result: StreamResult): string | undefined {
  return result.errorCode ?? result.end?.code;
}

interface Rig {
  dataDir: string;
  gateway: GatewayService;
  tenant: GatewayTenant;
  send(message: string, sessionKey: string): Promise<StreamResult>;
}

async function rig(dataDir: string): Promise<Rig> {
  const gateway = await startGateway({ dataDir, fakeUrl: fake.url, hookToken });
  const tenant = await createGatewayAgent(gateway.url, hookToken, "Disk Fault");
  return { dataDir, gateway, tenant, send: (message, sessionKey) => gatewayTarget(gateway.url, tenant).send(message, sessionKey, { timeoutMs: 15_000 }) };
}

async function expectNoDebris(dataDir: string): Promise<void> {
  const report = await inspectDataDir(dataDir);
  expect(report.tempFiles.map((file) => path.relative(dataDir, file))).toEqual([]);
  expect(report.badRegistries).toEqual([]);
  expect(report.badHeaders).toEqual([]);
  expect(report.lineProblems.filter((problem) => problem.kind === "invalid")).toEqual([]);
}

describe.skipIf(!mountable)("TENANT_DATA_DIR on a file system that becomes read-only", () => {
  let setup: Rig;
  /** The platform in front, which sends chats to the gateway over its WebSocket (chat.send). */
  let platform: PlatformService;
  let user: PlatformUser;
  let pgliteDir: string;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-ro-"));
    mountTmpfs(dir, "8m");
    setup = await rig(dir);
    pgliteDir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-ro-db-"));
    platform = await startPlatform({ gatewayUrl: setup.gateway.url, hookToken, dataDir: dir, pgliteDir });
    user = await createPlatformUser(platform.url);
    expect((await setup.send("before the fault", "kept")).end?.status).toBe("ok");
    remount(dir, "ro");
  }, 90_000);

  afterAll(async () => {
    await platform?.stop();
    await setup?.gateway.stop();
    if (pgliteDir) await rm(pgliteDir, { recursive: true, force: true });
  });

  it("refuses a new chat through the platform (WebSocket chat.send) with 503 storage_read_only, as over HTTP", async () => {
    // As the web app starts a new chat: no session key.
    const result = await stream({ url: `${platform.url}/api/agents/${user.slug}/messages`, headers: user.headers, body: { message: "a new chat" }, tokenEvent: "text-delta", timeoutMs: 15_000 });
    expect({ status: result.status, code: result.errorCode }).toEqual({ status: 503, code: "storage_read_only" });
  });

  it("refuses a message in a new session with 503 storage_read_only", async () => {
    const result = await setup.send("a new conversation", "fresh");
    expect(result.status).toBe(503);
    expect(result.errorCode).toBe("storage_read_only");
  });

  it("refuses to create an agent with 503 storage_read_only", async () => {
    const created = await jsonRequest(`${setup.gateway.url}/v1/agents`, "POST", setup.tenant.headers, { name: "Nope", role: "none" });
    expect(created.status).toBe(503);
    expect(created.body.error.code).toBe("storage_read_only");
  });

  it("ends a message in an existing session with storage_read_only, not an internal error", async () => {
    const result = await setup.send("during the fault", "kept");
    expect(result.error === undefined || result.errorCode !== undefined, `the stream must end cleanly: ${result.error}`).toBe(true);
    expect(codeOf(result)).toBe("storage_read_only");
  });

  it("still serves reads", async () => {
    const list = await jsonRequest(`${setup.gateway.url}/v1/agents/${setup.tenant.slug}/sessions`, "GET", setup.tenant.headers);
    expect(list.status).toBe(200);
    const history = await jsonRequest(`${setup.gateway.url}/v1/agents/${setup.tenant.slug}/sessions/kept`, "GET", setup.tenant.headers);
    expect(history.status).toBe(200);
  });

  it("works again once the file system is writable, with no debris left", async () => {
    remount(setup.dataDir, "rw");
    expect((await setup.send("after the fault", "kept")).end?.status).toBe("ok");
    expect((await setup.send("a new conversation", "fresh-after")).end?.status).toBe("ok");
    await expectNoDebris(setup.dataDir);
  });
});

describe.skipIf(!mountable)("TENANT_DATA_DIR on a full disk", () => {
  let setup: Rig;
  let filler: string;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-full-"));
    mountTmpfs(dir, "4m");
    setup = await rig(dir);
    expect((await setup.send("before the fault", "kept")).end?.status).toBe("ok");
    filler = path.join(dir, "filler.bin");
    const handle = await open(filler, "w");
    const chunk = Buffer.alloc(16 * 1024);
    try {
      for (;;) await handle.write(chunk);
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe("ENOSPC");
    } finally {
      await handle.close();
    }
  }, 60_000);

  afterAll(async () => {
    await setup?.gateway.stop();
  });

  it("refuses a message in a new session with 507 storage_full", async () => {
    const result = await setup.send("a new conversation", "fresh");
    expect(result.status).toBe(507);
    expect(result.errorCode).toBe("storage_full");
  });

  it("ends a message in an existing session with storage_full, not an internal error", async () => {
    const result = await setup.send("during the fault", "kept");
    expect(result.error === undefined || result.errorCode !== undefined, `the stream must end cleanly: ${result.error}`).toBe(true);
    expect(codeOf(result)).toBe("storage_full");
  });

  it("works again once space is freed, with no debris left and earlier messages intact", async () => {
    await rm(filler);
    expect((await setup.send("after the fault", "kept")).end?.status).toBe("ok");
    const history = await jsonRequest<{ entries: { type: string }[] }>(`${setup.gateway.url}/v1/agents/${setup.tenant.slug}/sessions/kept`, "GET", setup.tenant.headers);
    expect(history.status).toBe(200);
    expect(history.body.entries.filter((entry) => entry.type === "user").length).toBeGreaterThanOrEqual(2);
    await expectNoDebris(setup.dataDir);
  });
});

describe("TENANT_DATA_DIR removed while the gateway runs", () => {
  let setup: Rig;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "wf-fault-removed-"));
    setup = await rig(dir);
    expect((await setup.send("before the fault", "kept")).end?.status).toBe("ok");
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  afterAll(async () => {
    await setup?.gateway.stop();
    await rm(setup.dataDir, { recursive: true, force: true });
  });

  it("answers a message with a clear error code, without hanging or an internal error", async () => {
    const result = await setup.send("into the void", "kept");
    expect(result.end?.status === "ok").toBe(false);
    const code = codeOf(result);
    expect(code).toBeDefined();
    expect(code).not.toBe("internal_error");
  });

  it("answers a new session with a clear error code", async () => {
    const result = await setup.send("into the void", "fresh");
    expect(result.status).toBeGreaterThanOrEqual(400);
    expect(result.errorCode).toBeDefined();
    expect(result.errorCode).not.toBe("internal_error");
  });

  it("keeps refusing in an empty directory put back in its place (its data would split), and works after a restart on it", async () => {
    await mkdir(setup.dataDir, { recursive: true, mode: 0o700 });
    const refused = await setup.send("hello again", "new");
    expect(refused.end?.status === "ok").toBe(false);
    expect(codeOf(refused)).toBe("storage_unavailable");
    expect((await fetch(`${setup.gateway.url}/`)).status).toBe(503);
    await setup.gateway.stop();
    // A restart on the directory is the operator saying "this is the data now": it gets its marker.
    setup = await rig(setup.dataDir);
    const result = await setup.send("hello again", "new");
    expect(result.end?.status).toBe("ok");
  }, 60_000);
});
