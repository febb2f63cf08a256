/**
 * What a tenant reads when the gateway is down: that it is down, never where it lives (the
 * gateway's URL is the operator's business, shown in /api/health to them alone).
 */
import { createServer } from "node:net";
import { AppError } from "@workforce/protocol";
import { describe, expect, it } from "vitest";
import { createGatewayClient } from "./gateway-client";

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe("gateway errors told to tenants", () => {
  it("say the gateway is unreachable without naming its address", async () => {
    const port = await closedPort();
    const gateway = createGatewayClient({ baseUrl: `http://127.0.0.1:${port}`, hookToken: "secret-hook-token" });
    const tenantId = "00000000-0000-4000-8000-000000000001";
    const errors = await Promise.all([
      gateway.health().catch((caught: unknown) => caught),
      gateway.listAgents(tenantId).catch((caught: unknown) => caught),
      gateway.streams.subscribe(tenantId, "run-1", 0).catch((caught: unknown) => caught),
    ]);
    gateway.streams.close();
    for (const error of errors) {
      expect(error).toBeInstanceOf(AppError);
      const { code, message } = (error as AppError).toBody().error;
      expect(code).toBe("gateway_unavailable");
      expect(message).toMatch(/not reachable/);
      expect(message).not.toContain(String(port));
      expect(message).not.toContain("127.0.0.1");
      expect(message).not.toMatch(/CLAWDBOT|secret-hook-token/);
    }
  });
});
