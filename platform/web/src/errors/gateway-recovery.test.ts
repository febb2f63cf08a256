import { describe, expect, it } from "vitest";
import { memoryStorage } from "../chat/test-support";
import { createTenantStore } from "../tenants/tenant-store";
import { recoveryDelay } from "./gateway-banner";

describe("gateway recovery", () => {
  it("checks back after 2 s, doubling up to 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 10].map(recoveryDelay)).toEqual([2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("marks the gateway down when any call finds it unreachable, once, and only on a loaded workspace", () => {
    const store = createTenantStore(memoryStorage());
    const down = { code: "gateway_unavailable", message: "The agent gateway is not reachable right now" };
    store.markGatewayDown(down);
    expect(store.getState().me.status).toBe("idle");
    store.setMe({ status: "ready", me: { user: { id: "u1", emailConfirmed: true, operator: false }, tenants: [], canCreateOrganisation: true, model: undefined, gatewayError: undefined } });
    let changes = 0;
    store.subscribe(() => (changes += 1));
    store.markGatewayDown(down);
    store.markGatewayDown({ ...down, message: "again" });
    const me = store.getState().me;
    expect(me.status === "ready" ? me.me.gatewayError : undefined).toEqual(down);
    expect(changes).toBe(1);
  });
});
