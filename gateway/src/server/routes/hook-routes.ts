import { SessionKey, Slug, RUN_ID_HEADER } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import type { SubmitRun } from "../../runs/run-forwarding";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";

/** `POST /hooks/agent` body: which agent to wake and what to tell it. */
export const HookAgentInput = z.object({
  agent: Slug,
  message: z.string().min(1, "must not be empty").max(100_000),
  sessionKey: SessionKey.optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});

/** Webhooks (`/hooks/*`): start a run and return its id at once. */
export function hookRoutes(deps: { submitRun: SubmitRun }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.post("/agent", async (c) => {
    const input = await readJsonBody(c, HookAgentInput);
    const run = await deps.submitRun(c.get("tenantId"), input.agent, {
      message: input.message,
      sessionKey: input.sessionKey,
      idempotencyKey: input.idempotencyKey,
    }, { source: "hook" });
    c.header(RUN_ID_HEADER, run.runId);
    return c.json(run.info(), 202);
  });
  return app;
}
