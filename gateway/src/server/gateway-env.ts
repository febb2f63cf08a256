/** Hono environment of the gateway app: values middleware hands to handlers. */
export interface GatewayEnv {
  Variables: {
    tenantId: string;
  };
}
