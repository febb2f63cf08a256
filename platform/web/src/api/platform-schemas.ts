import { z } from "zod";

/*
 * Answers of the platform's own routes (organisations, team, API keys, usage), mirrored from
 * platform/src/routes/*.ts. They are not in @workforce/protocol yet; when they move there, these
 * become re-exports.
 */

export const Role = z.enum(["owner", "admin", "member"]);
export type Role = z.infer<typeof Role>;
export const ROLES = Role.options;

export const Tenant = z.object({ id: z.string(), name: z.string(), role: Role });
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

export const CreatedInvitation = z.object({ invitation: Invitation, token: z.string(), acceptUrl: z.string() });
export type CreatedInvitation = z.infer<typeof CreatedInvitation>;

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

export const UsageTotals = z.object(Tokens);
export type UsageTotals = z.infer<typeof UsageTotals>;
export const AgentUsage = z.object({ agent: z.string(), ...Tokens });
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
});
export type UsageReport = z.infer<typeof UsageReport>;
