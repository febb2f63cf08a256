import { useSyncExternalStore } from "react";
import { useServices } from "../services";

/** Whether the agent gateway is known to be unreachable (the banner shows; the composer is turned off). */
export function useGatewayDown(): boolean {
  const { tenants } = useServices();
  return useSyncExternalStore(tenants.subscribe, () => {
    const me = tenants.getState().me;
    return me.status === "ready" && me.me.gatewayError !== undefined;
  });
}
