import { HeartbeatFileUpdate } from "@workforce/protocol";
import { assertSlug } from "@workforce/protocol/tenant-path";
import { Hono } from "hono";
import type { HeartbeatFiles } from "../../agents/heartbeat-file";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";

/** `/v1/agents/:slug/heartbeat`: the agent's HEARTBEAT.md, read and replaced by the platform. */
export function heartbeatRoutes(files: HeartbeatFiles): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get("/:slug/heartbeat", async (c) => c.json(await files.read(c.get("tenantId"), assertSlug(c.req.param("slug")))));
  app.put("/:slug/heartbeat", async (c) => {
    const slug = assertSlug(c.req.param("slug"));
    const { content } = await readJsonBody(c, HeartbeatFileUpdate);
    return c.json(await files.write(c.get("tenantId"), slug, content));
  });
  return app;
}
