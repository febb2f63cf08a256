import { UsagePendingRequest, type UsagePendingResponse } from "@workforce/protocol";
import { Hono } from "hono";
import { z } from "zod";
import { JOURNAL_PAGE_LIMIT, type UsageJournal } from "../../metering/usage-journal";
import type { GatewayEnv } from "../gateway-env";
import { readJsonBody, validate } from "../request-input";

/** The route that names its tenants in the body instead of X-Tenant-ID (create-gateway-app exempts it). */
export const USAGE_PENDING_PATH = "/v1/usage/pending";

const JournalQuery = z.object({
  after: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  limit: z.coerce.number().int().min(1).max(JOURNAL_PAGE_LIMIT).default(JOURNAL_PAGE_LIMIT),
});

/** `/v1/usage`: the usage journal, for the platform to ingest (docs/gateway-api.md). */
export function usageRoutes(deps: { journal: UsageJournal }): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();

  // The tenant's records from byte `after` on, with the cursor to ask with next.
  app.get("/journal", async (c) => {
    const query = validate(JournalQuery, c.req.query(), "query");
    return c.json(await deps.journal.read(c.get("tenantId"), query.after, query.limit));
  });

  // Which of these tenants have journal bytes past the platform's cursor: one stat each.
  app.post("/pending", async (c) => {
    const { cursors } = await readJsonBody(c, UsagePendingRequest);
    const sizes = await Promise.all(cursors.map(async ({ tenantId, after }) => ({ tenantId, after, size: await deps.journal.size(tenantId) })));
    const body: UsagePendingResponse = { pending: sizes.filter(({ after, size }) => size !== after).map(({ tenantId, size }) => ({ tenantId, size })) };
    return c.json(body);
  });

  return app;
}
