import { z } from "zod";
import { ErrorDetail } from "./errors";
import { SessionHistory, SessionSummary } from "./gateway-api";

/**
 * Whose a session is, as the platform records it (its `/api` answers, not the gateway's): the
 * user or API key that started it, or `none` for sessions started elsewhere (the gateway's hooks,
 * `/v1/chat/completions`) or before ownership was recorded. `email` is null for a user who is no
 * longer in the organisation; `name` is an API key's.
 */
export const SessionOwner = z.object({
  type: z.enum(["user", "api-key", "none"]),
  id: z.string().nullable(),
  email: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
});
export type SessionOwner = z.infer<typeof SessionOwner>;

/** A session as the platform lists it: the gateway's summary plus its owner. */
export const OwnedSessionSummary = SessionSummary.extend({ owner: SessionOwner });
export type OwnedSessionSummary = z.infer<typeof OwnedSessionSummary>;

/** A session's history as the platform answers it: the gateway's plus its owner. */
export const OwnedSessionHistory = SessionHistory.extend({ owner: SessionOwner });
export type OwnedSessionHistory = z.infer<typeof OwnedSessionHistory>;

/** `GET /api/agents/:slug/sessions?owner=`: the caller's own sessions (default), or everyone's (owners and admins). */
export const SessionOwnerFilter = z.enum(["mine", "all"], { message: "must be 'mine' or 'all'" });
export type SessionOwnerFilter = z.infer<typeof SessionOwnerFilter>;

/**
 * `disk` in `GET /api/usage`: the bytes the organisation's files take on the gateway and its quota
 * (`quotaBytes` null: none). When the gateway could not be asked, both are null and `error` says why;
 * the rest of the usage answer still comes.
 */
export const UsageDisk = z.object({
  usedBytes: z.number().int().min(0).nullable(),
  quotaBytes: z.number().int().min(0).nullable(),
  error: ErrorDetail.optional(),
});
export type UsageDisk = z.infer<typeof UsageDisk>;
const wholeNumber = (min: number, max: number) =>
  z.number({ message: "must be a whole number, or null for the installation's default" }).int("must be a whole number").min(min, `must be at least ${min}`).max(max, `must be at most ${max}`);

/**
 * An organisation's plan limits as the operator sets them (`PATCH /api/operator/tenants/{id}/limits`).
 * Each is null where the installation's default applies. `monthlyTokens` caps the organisation's
 * own budget (the smaller of the two applies); `diskMb` 0 means no quota.
 */
export const OrganisationLimitOverrides = z.object({
  /** Runs executing at once per gateway (WORKFORCE_TENANT_MAX_CONCURRENT_RUNS). */
  maxConcurrentRuns: wholeNumber(1, 10_000).nullable(),
  /** Runs waiting per gateway before 429 tenant_queue_full (WORKFORCE_TENANT_MAX_QUEUED_RUNS). */
  maxQueuedRuns: wholeNumber(0, 100_000).nullable(),
  /** Tokens per calendar month (UTC); null: no cap beyond the organisation's own budget. */
  monthlyTokens: wholeNumber(0, Number.MAX_SAFE_INTEGER).nullable(),
  /** Disk quota under TENANT_DATA_DIR in MB (WORKFORCE_TENANT_DISK_MB); 0: none. */
  diskMb: wholeNumber(0, 100_000_000).nullable(),
  /** API requests per minute (per key and per user). */
  requestsPerMinute: wholeNumber(1, 1_000_000).nullable(),
  /** Concurrent streams (per key and per user). */
  maxStreams: wholeNumber(1, 100_000).nullable(),
});
export type OrganisationLimitOverrides = z.infer<typeof OrganisationLimitOverrides>;
export const ORGANISATION_LIMIT_FIELDS = Object.keys(OrganisationLimitOverrides.shape) as (keyof OrganisationLimitOverrides)[];

/** A change to some of the limits; a field set to null goes back to the installation's default. */
export const OrganisationLimitsPatch = OrganisationLimitOverrides.partial()
  .strict()
  .refine((patch) => Object.keys(patch).length > 0, { message: `name at least one of ${ORGANISATION_LIMIT_FIELDS.join(", ")}` });
export type OrganisationLimitsPatch = z.infer<typeof OrganisationLimitsPatch>;

/** The limits in force: null where there is none (no token cap, no disk quota, no API default configured). */
export const OrganisationLimits = z.object({
  maxConcurrentRuns: z.number(),
  maxQueuedRuns: z.number(),
  monthlyTokens: z.number().nullable(),
  diskMb: z.number().nullable(),
  requestsPerMinute: z.number().nullable(),
  maxStreams: z.number().nullable(),
});
export type OrganisationLimits = z.infer<typeof OrganisationLimits>;

/** What an organisation's members see of their limits (`GET /api/limits`), read-only. */
export const OrganisationLimitsView = z.object({
  effective: OrganisationLimits,
  /** Where the monthly token limit comes from: the operator's plan and the organisation's own budget. */
  monthlyTokens: z.object({ plan: z.number().nullable(), budget: z.number().nullable() }),
  suspended: z.object({ reason: z.string().nullable() }).nullable(),
});
export type OrganisationLimitsView = z.infer<typeof OrganisationLimitsView>;

/** The operator's view of one organisation's limits (`GET`/`PATCH /api/operator/tenants/{id}/limits`). */
export const OperatorLimitsView = OrganisationLimitsView.extend({
  tenantId: z.string(),
  overrides: OrganisationLimitOverrides,
  /** The installation's defaults (`monthlyTokens`: the operator's default cap, none). */
  defaults: OrganisationLimits,
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
  /** Whether the gateways hold the current policy: `version` is what they must hold, `pushedVersion` what one accepted last. */
  push: z.object({ version: z.number(), pushedVersion: z.number(), pushedAt: z.string().nullable(), lastError: z.string().nullable() }),
});
export type OperatorLimitsView = z.infer<typeof OperatorLimitsView>;
