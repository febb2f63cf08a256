import { existsSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { afterEach, describe, expect, it, vi } from "vitest";
import { readRunEvents, replyText, startTestGateway, TENANT_A, type TestGateway } from "./test-support/test-gateway";

let harness: TestGateway | undefined;
afterEach(async () => {
  await harness?.cleanup();
  harness = undefined;
});

async function codeOf(response: Response): Promise<{ status: number; code: string }> {
  const body = (await response.json()) as { error: { code: string } };
  return { status: response.status, code: body.error.code };
}

describe("a TENANT_DATA_DIR removed under a running gateway (rm -rf of the volume)", () => {
  it("answers storage_unavailable, turns health 503 and never recreates an empty data dir", async () => {
    harness = await startTestGateway();
    const { dataDir } = harness;
    const request = harness.request.bind(harness);
    expect((await harness.createAgent(TENANT_A)).status).toBe(201);
    const first = await request("POST", "/v1/agents/ada/runs", { body: { message: "Hello" }, headers: { accept: "text/event-stream" } });
    expect(replyText(await readRunEvents(first)).length).toBeGreaterThan(0);
    expect((await request("GET", "/", { tenant: null })).status).toBe(200);

    await rm(dataDir, { recursive: true, force: true });

    // A message to the agent that existed: the storage is gone, not the agent.
    const message = await request("POST", "/v1/agents/ada/runs", { body: { message: "Still there?" }, headers: { accept: "text/event-stream" } });
    expect(await codeOf(message)).toEqual({ status: 503, code: "storage_unavailable" });
    expect(await codeOf(await request("GET", "/v1/agents/ada"))).toEqual({ status: 503, code: "storage_unavailable" });
    expect(await codeOf(await request("GET", "/v1/agents"))).toEqual({ status: 503, code: "storage_unavailable" });
    // Creating an agent must not split the data into a fresh, unmarked directory.
    expect(await codeOf(await harness.createAgent(TENANT_A, { name: "Bea" }))).toEqual({ status: 503, code: "storage_unavailable" });
    expect(existsSync(dataDir)).toBe(false);

    const health = await request("GET", "/", { tenant: null });
    const body = (await health.json()) as { error: { code: string; message: string } };
    expect(health.status).toBe(503);
    expect(body.error.code).toBe("storage_unavailable");
    expect(body.error.message).toContain("TENANT_DATA_DIR is gone");
    expect(body.error.message).not.toContain(dataDir);

    // Stopping cannot save the session registry any more, and says so (it keeps its journal).
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    await harness.cleanup();
    harness = undefined;
    expect(errors).toHaveBeenCalledWith(expect.stringContaining("could not write the session registry"), expect.anything());
    errors.mockRestore();
    expect(existsSync(dataDir)).toBe(false);
  });

  it("refuses a directory put back empty in its place (no marker) instead of filling it", async () => {
    harness = await startTestGateway();
    const { dataDir } = harness;
    const request = harness.request.bind(harness);
    expect((await harness.createAgent(TENANT_A)).status).toBe(201);
    await rm(dataDir, { recursive: true, force: true });
    await mkdir(dataDir);
    expect(await codeOf(await harness.createAgent(TENANT_A, { name: "Bea" }))).toEqual({ status: 503, code: "storage_unavailable" });
    expect(await readdir(dataDir)).toEqual([]);
    expect((await request("GET", "/", { tenant: null })).status).toBe(503);
  });
});
