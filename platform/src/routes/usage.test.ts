/**
 * `GET /api/usage` carries the organisation's disk use from the gateway, and still answers the
 * token usage, saying the disk figure is unknown, when the gateway cannot be reached.
 */
import { UsageDisk } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeGateway, type FakeGateway } from "../test-support/fake-gateway";
import { caller, createTestPlatform, signUp, type TestPlatform } from "../test-support/test-platform";

/** The discard port on loopback: nothing listens there, as when the gateway is down. */
const DOWN_GATEWAY = "http://127.0.0.1:9";

let gateway: FakeGateway;
let platform: TestPlatform;
let ada: { token: string; tenantId: string };

beforeAll(async () => {
  gateway = await startFakeGateway({ disk: { usedBytes: 123_456, quotaBytes: 1_048_576 } });
  platform = await createTestPlatform({ gatewayUrl: gateway.url });
  ada = await signUp(platform, "ada-disk@example.com");
}, 120_000);
afterAll(async () => {
  await platform?.close();
  await gateway?.close();
});

describe("GET /api/usage disk", () => {
  it("shows the bytes used and the quota the gateway reports for the caller's organisation", async () => {
    const response = await caller(platform)("GET", "/api/usage?days=7", { token: ada.token });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { days: number; disk: unknown };
    expect(body.days).toBe(7);
    expect(UsageDisk.parse(body.disk)).toEqual({ usedBytes: 123_456, quotaBytes: 1_048_576 });
    expect(gateway.requests.filter((request) => request.path === "/v1/tenant/disk").map((request) => request.tenantId)).toEqual([ada.tenantId]);
  });

  it("answers the token usage and says the disk use is unknown while the gateway is down", async () => {
    // A second platform process on the same database whose gateway is unreachable.
    const offline = await createTestPlatform({ gatewayUrl: DOWN_GATEWAY, database: platform.database });
    try {
      const response = await caller(offline)("GET", "/api/usage", { token: ada.token });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { totals: { runs: number }; disk: unknown };
      expect(body.totals.runs).toBe(0);
      const disk = UsageDisk.parse(body.disk);
      expect(disk).toMatchObject({ usedBytes: null, quotaBytes: null, error: { code: "gateway_unavailable" } });
      expect(disk.error?.message).toMatch(/^Disk use is unknown: .*gateway/);
    } finally {
      await offline.close();
    }
  }, 60_000);
});
