import { AppError, ApprovalDecisionInput } from "@workforce/protocol";
import { assertSlug } from "@workforce/protocol/tenant-path";
import { Hono } from "hono";
import { ApprovalId, decideApproval, type ApprovalDecisionDeps } from "../../runs/approval-decisions";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody } from "../request-input";
import { startedRun, submittedBy } from "./run-routes";
import { sessionKey } from "./session-routes";

/**
 * `POST /v1/agents/:slug/sessions/:key/approvals/:approvalId` (issue 15): a decision on the tool
 * call a session waits on; answered like sending a message (the run it starts, as SSE or 202).
 */
export function approvalRoutes(deps: ApprovalDecisionDeps & { heartbeatMs: number }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.post("/:slug/sessions/:key/approvals/:approvalId", async (c) => {
    const agent = assertSlug(c.req.param("slug"));
    const key = sessionKey(c.req.param("key"));
    const approvalId = ApprovalId.safeParse(c.req.param("approvalId"));
    if (!approvalId.success) throw new AppError("approval_not_found", "no such approval: approval ids are letters, digits, '-' and '_'");
    const input = await readJsonBody(c, ApprovalDecisionInput);
    const { origin, forwarded } = submittedBy(c);
    const run = await decideApproval(deps, c.get("tenantId"), { agent, sessionKey: key, approvalId: approvalId.data, input, origin, forwarded });
    return startedRun(c, run, deps.heartbeatMs);
  });
  return app;
}
