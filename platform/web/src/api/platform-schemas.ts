import { OrganisationLimits, UsageDisk } from "@workforce/protocol";
import { z } from "zod";

/*
 * Answers of the platform's own routes (organisations, team, API keys, usage, operator), mirrored from
 * platform/src/routes/*.ts. They are not in @workforce/protocol yet; when they move there, these
 * become re-exports.
 */

export const Role = z.enum(["owner", "admin", "member"]);
export type Role = z.infer<typeof Role>;
export const ROLES = Role.options;

/** `suspended` and its reason come with `/api/me` (the operator suspended it); other answers leave them out. */
export const Tenant = z.object({ id: z.string(), name: z.string(), role: Role, suspended: z.boolean().optional(), suspendedReason: z.string().nullable().optional() });
export type Tenant = z.infer<typeof Tenant>;

export const Member = z.object({ userId: z.string(), email: z.string(), role: Role, joinedAt: z.string() });
export type Member = z.infer<typeof Member>;

export const Invitation = z.object({
  id: z.string(),
  email: z.string(),
  role: Role,
  invitedBy: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export type Invitation = z.infer<typeof Invitation>;

/** The link goes only to the invited address: by email, or into the local outbox when the server has no SMTP. */
export const CreatedInvitation = z.object({ invitation: Invitation, delivery: z.enum(["email", "outbox"]) });
export type CreatedInvitation = z.infer<typeof CreatedInvitation>;

/** What an invitation link is for (`POST /api/invitations/preview`), shown before anyone signs in. */
export const InvitationPreview = z.object({
  organisation: z.string(),
  inviterEmail: z.string().nullable(),
  email: z.string(),
  role: Role,
  expiresAt: z.string(),
});
export type InvitationPreview = z.infer<typeof InvitationPreview>;

/** One organisation as the installation's operator sees it (`GET /api/operator/tenants`). */
export const OperatorTenant = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.string(),
  members: z.number(),
  owners: z.array(z.string()),
  suspended: z.object({ at: z.string(), reason: z.string().nullable() }).nullable(),
  usage: z.object({ tokens: z.number(), runs: z.number(), monthlyTokens: z.number().nullable() }),
  /** The limits in force (absent from platforms older than decision 018). */
  limits: OrganisationLimits.optional(),
});
export type OperatorTenant = z.infer<typeof OperatorTenant>;

export const OperatorTenantPage = z.object({ tenants: z.array(OperatorTenant), nextCursor: z.string().nullable() });
export type OperatorTenantPage = z.infer<typeof OperatorTenantPage>;

/** What an API key may do (platform/src/app-env.ts SCOPES). */
export const SCOPES = ["agents:read", "agents:write", "sessions:read", "sessions:write", "chat", "usage:read"] as const;
export const Scope = z.enum(SCOPES);
export type Scope = z.infer<typeof Scope>;

export const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  // A scope this build does not know yet must not hide the key.
  scopes: z.array(z.string()),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type ApiKey = z.infer<typeof ApiKey>;

export const CreatedApiKey = z.object({ key: ApiKey, secret: z.string() });
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;

const Tokens = {
  runs: z.number(),
  inputTokens: z.number(),
  outputTokens: z.number(),
  /** Not sent by the platform today; shown when it is. */
  costUsd: z.number().nullable().optional(),
};

/** The part of the usage that ran on the organisation's own model key (issue 14); absent from older platforms. */
const OrganisationKey = { organisationKey: z.object({ runs: z.number(), inputTokens: z.number(), outputTokens: z.number() }).optional() };

export const UsageTotals = z.object({ ...Tokens, ...OrganisationKey });
export type UsageTotals = z.infer<typeof UsageTotals>;
export const AgentUsage = z.object({ agent: z.string(), ...Tokens, ...OrganisationKey });
export type AgentUsage = z.infer<typeof AgentUsage>;
/** A calendar day (`YYYY-MM-DD`), optionally of one agent. Not sent by the platform today. */
export const DayUsage = z.object({ date: z.string(), agent: z.string().optional(), ...Tokens });
export type DayUsage = z.infer<typeof DayUsage>;

export const UsageReport = z.object({
  since: z.string(),
  days: z.number(),
  totals: UsageTotals,
  byAgent: z.array(AgentUsage),
  byDay: z.array(DayUsage).optional(),
  /** Absent from platforms older than disk quotas. */
  disk: UsageDisk.optional(),
});
export type UsageReport = z.infer<typeof UsageReport>;
