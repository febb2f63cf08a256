import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../test-support/free-port";
import { createTestPlatform, TEST_ORIGIN, type TestPlatform } from "../test-support/test-platform";

// One platform for the file (its embedded database is the slow part on a loaded machine); the
// last test closes it.
let platform: TestPlatform;
let closed = false;
beforeAll(async () => {
  platform = await createTestPlatform({ gatewayUrl: `http://127.0.0.1:${await freePort()}` });
});
afterAll(async () => {
  if (!closed) await platform.close();
});

describe("GET /livez", () => {
  it("stays 200 while readiness (/api/health) is 503 because the gateway is unreachable, so the platform is not restarted for it", async () => {
    const health = await platform.app.request(`${TEST_ORIGIN}/api/health`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: "degraded" });
    const live = await platform.app.request(`${TEST_ORIGIN}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });
  });

  it("answers after the database has gone away: it does no I/O", async () => {
    closed = true;
    await platform.close();
    const live = await platform.app.request(`${TEST_ORIGIN}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: "ok" });
  });
});
