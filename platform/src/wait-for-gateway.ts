import { AppError, type GatewayHealth } from "@workforce/protocol";
import type { GatewayClient } from "./gateway-client";

/**
 * Polls the gateway's health until it answers or `timeoutMs` passes; the last error is rethrown.
 * A gateway that answers but refuses the platform (a wrong token, a response of another shape) is
 * not going to change its mind: that is reported at once.
 */
export async function waitForGateway(
  gateway: GatewayClient,
  timeoutMs: number,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<GatewayHealth> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await gateway.health(Math.max(500, Math.min(2_000, deadline - Date.now())));
    } catch (error) {
      if (error instanceof AppError && error.code === "gateway_error") throw error;
      if (Date.now() >= deadline) {
        if (error instanceof AppError) throw error;
        throw new AppError("gateway_unavailable", `The agent gateway at ${gateway.baseUrl} did not answer`, { cause: error });
      }
      await sleep(200);
    }
  }
}
