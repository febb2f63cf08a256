import { createGuardedFetch, PUBLIC_ONLY, type OutboundPolicy, type Resolver } from "@workforce/net-guard";
import type { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Database, SystemDatabase } from "../db/schema";
import type { JobRunner } from "../jobs/job-queue";
import type { TenantSecrets } from "../secrets/tenant-secrets";
import { registerWebhookJobs } from "./webhook-jobs";
import { webhookRoutes } from "./webhook-routes";
import { createWebhookSender } from "./webhook-sender";
import { createWebhookUrlCheck } from "./webhook-url";

/** The operator's and the tests' settings of outbound webhooks. */
export interface WebhookOptions {
  /** Where endpoints may point (WORKFORCE_OUTBOUND_ALLOW_PRIVATE / _ALLOW_HOSTS); public addresses only by default. */
  outbound?: OutboundPolicy;
  /** Name resolution for the URL check and the connections (tests: a name that resolves to a private address). */
  resolve?: Resolver;
  /** How long one attempt may take, connecting to reading the answer (default 15 s, the spec's lower bound). */
  timeoutMs?: number;
  /** Endpoints per organisation (default MAX_WEBHOOK_ENDPOINTS). */
  maxEndpoints?: number;
}

export interface WebhookDeps {
  db: Database;
  system: SystemDatabase;
  secrets: TenantSecrets | undefined;
  now: () => Date;
  options?: WebhookOptions;
}

export interface Webhooks {
  /** Mounted at /api. */
  routes: Hono<AppEnv>;
  /** Registers the fan-out of the events outbox, the delivery attempts and the log's pruning on the job runner. */
  register(jobs: JobRunner): void;
}

/**
 * Outbound webhooks (issue 15): endpoints an organisation registers, the events outbox fanned out
 * to them, and deliveries signed per Standard Webhooks, retried on a schedule that outlives
 * restarts (the job queue), through the one SSRF guard (decision 030).
 */
export function createWebhooks(deps: WebhookDeps): Webhooks {
  const options = deps.options ?? {};
  const policy = options.outbound ?? PUBLIC_ONLY;
  // Redirects are answered, not followed ("manual"): a 3xx is a failed attempt.
  const fetch = createGuardedFetch(policy, options.resolve ? { resolve: options.resolve } : {});
  const sender = createWebhookSender({ fetch, timeoutMs: options.timeoutMs ?? 15_000, now: deps.now });
  const routes = webhookRoutes({
    db: deps.db,
    secrets: deps.secrets,
    now: deps.now,
    assertWebhookUrl: createWebhookUrlCheck(policy, options.resolve),
    ...(options.maxEndpoints === undefined ? {} : { maxEndpoints: options.maxEndpoints }),
  });
  return {
    routes,
    register: (jobs) => registerWebhookJobs(jobs, { db: deps.db, system: deps.system, secrets: deps.secrets, sender, now: deps.now }),
  };
}
