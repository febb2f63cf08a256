import { AppError } from "@workforce/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatewayClient } from "./gateway-client";
import { startGatewayProcess, type GatewayProcess } from "./test-support/gateway-process";

let gateway: GatewayProcess;
beforeAll(async () => {
  gateway = await startGatewayProcess({
    hookToken: "capabilities-hook-token-0123456789",
    env: { WEB_SEARCH_PROVIDER: "searxng", WEB_SEARCH_URL: "http://searxng.internal:8080" },
  });
});
afterAll(async () => {
  await gateway.stop();
});

describe("the gateway's capabilities, as the platform reads them", () => {
  it("says web fetch is there and web search goes through the operator's provider", async () => {
    const client = createGatewayClient({ baseUrl: gateway.url, hookToken: gateway.hookToken });
    expect(await client.capabilities()).toEqual({ webFetch: true, webSearch: { provider: "searxng" } });
  });

  it("is refused without the hook token", async () => {
    const client = createGatewayClient({ baseUrl: gateway.url, hookToken: "not-the-token" });
    const error = await client.capabilities().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe("gateway_error");
  });
});
